#!/usr/bin/env bash
# Builds the benchmark jar (bench/target/sdj-bench.jar) and runs the benchmarks, from the repository root.
#
#   bench/run.sh [EndToEnd options]   the end-to-end table; defaults: 256x256, 4 steps, euler_a, f16 and q4_0, 3 reps
#   bench/run.sh --jmh [JMH options]  the JMH micro-benchmarks (TokenizerBench, GraphBuildBench)
#
# The environment adds options too: BENCH_ARGS for the table, JMH_ARGS for JMH, e.g.
#   make bench BENCH_ARGS='--reps 5 --compare "sd-cli -m {model} -p {prompt} ... --type {type}"'
#   make bench-jmh JMH_ARGS='TokenizerBench -f 1 -wi 2 -i 3'
# Every JVM that touches ggml starts through native/bin/java: the table's measured runs and JMH's forks alike.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
JAVA_HOME=${JAVA_HOME:-$(native/find-jdk.sh)}
export JAVA_HOME
mvn=(mvn -B -q)

# bench/pom.xml depends on io.sdj:sdj from the local Maven repository: install the current build there first
"${mvn[@]}" install -DskipTests
"${mvn[@]}" -f bench/pom.xml package -DskipTests
jar=bench/target/sdj-bench.jar

if [ "${1:-}" = "--jmh" ]; then
  shift
  # shellcheck disable=SC2086 # JMH_ARGS is a list of words
  exec native/bin/java -jar "$jar" -jvm "$root/native/bin/java" ${JMH_ARGS:-} "$@"
fi
# BENCH_ARGS is shell words: quotes group a value (the --compare command)
eval "set -- --width 256 --height 256 --steps 4 --sampler euler_a --type f16,q4_0 ${BENCH_ARGS:-} \"\$@\""
exec native/bin/java -cp "$jar" io.sdj.bench.EndToEnd "$@"
