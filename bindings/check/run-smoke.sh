#!/usr/bin/env bash
# Generates the bindings, compiles them with BindingsSmoke, and runs it through native/bin/java against the prefix's ggml.
#   bash bindings/check/run-smoke.sh            (SDJ_PREFIX defaults to native/prefix)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
gen=$root/target/generated-sources/ggml
classes=$root/target/bindings-smoke
bash "$root/bindings/generate.sh" "$gen"
jdk=$("$root/native/find-jdk.sh")
rm -rf "$classes"
"$jdk/bin/javac" -d "$classes" $(find "$gen" -name '*.java') "$root/bindings/check/BindingsSmoke.java"
"$root/native/bin/java" -cp "$classes" BindingsSmoke "$@"
