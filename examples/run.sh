#!/usr/bin/env bash
# Builds and runs the example application (examples/generate-image) the way a user's project would: from a fresh
# temporary folder outside the checkout, depending on io.sdj:sdj from the local Maven repository by coordinates only,
# on the module path, started through the runtime launcher. What `make test-example` (part of `make test`) runs;
# `make install` must have run first.
#
#   examples/run.sh        SDJ_LAUNCHER=<runtime>/bin/java  SDJ_MERGES=/path/merges.txt  KEEP=1 (keep the folder)
#
# The model is the tiny SD 1.x-shaped checkpoint of the test fixtures (io.sdj.model.WriteTinySd15); the tokenizer is
# CLIP's merges.txt from the shared fixtures ($SDJ_SHARED, default ../shared).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
JAVA_HOME=${JAVA_HOME:-$("$root/native/find-jdk.sh")}
export JAVA_HOME
launcher=${SDJ_LAUNCHER:-$root/native/bin/java}
merges=${SDJ_MERGES:-${SDJ_SHARED:-$root/../shared}/clip/merges.txt}
[ -f "$merges" ] || { echo "examples/run.sh: no CLIP merges.txt at $merges (set SDJ_MERGES or SDJ_SHARED)" >&2; exit 1; }
for f in "$root/target/test-classes/io/sdj/model/WriteTinySd15.class" "$root/target/runtime-classpath.txt"; do
  [ -f "$f" ] || { echo "examples/run.sh: $f missing; run 'make install' first" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/sdj-example.XXXXXX")
if [ -z "${KEEP:-}" ]; then trap 'rm -rf "$work"' EXIT; fi
cp -r "$root/examples/generate-image" "$work/app"
cd "$work"
echo "[example] working in $work (outside the checkout)"

"$JAVA_HOME/bin/java" -cp "$root/target/test-classes:$root/target/classes:$(cat "$root/target/runtime-classpath.txt")" \
  io.sdj.model.WriteTinySd15 "$work/tiny-sd15.safetensors"

mvn -B -q -f app/pom.xml package

modules="app/target/generate-image-1.0.jar:$(cat app/target/module-path.txt)"
SDJ_NATIVE_ACCESS=io.sdj "$launcher" -p "$modules" -m example/example.GenerateImage \
  "$work/tiny-sd15.safetensors" "$merges" "$work/out.png" "a lovely cat" 64 2

# a PNG of 64x64: the signature, then IHDR's width and height (big-endian) at bytes 16..23
sig=$(od -An -tx1 -N8 out.png | tr -d ' \n')
dims=$(od -An -tu1 -j16 -N8 out.png | tr -s ' ' | sed 's/^ //')
[ "$sig" = 89504e470d0a1a0a ] || { echo "[example] out.png is not a PNG (starts with $sig)" >&2; exit 1; }
[ "$dims" = "0 0 0 64 0 0 0 64" ] || { echo "[example] out.png is not 64x64 (IHDR bytes: $dims)" >&2; exit 1; }
echo "[example] ok: the app built against io.sdj:sdj by coordinates wrote a 64x64 PNG"
