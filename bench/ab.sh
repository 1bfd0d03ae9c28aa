#!/usr/bin/env bash
# A/B comparison of sdj against itself with different JVM arguments, in one run, alternating A B A B:
# each run is a fresh JVM of io.sdj.bench.SdjRun (load, one image, peak RSS), and the table gives the medians of
# variant B and B/A for every figure. Build the jar first (bench/run.sh builds it, or see bench/README.md).
#
#   bench/ab.sh REPS "A jvm args" "B jvm args" [SdjRun options...]
#   bench/ab.sh 3 "-Dsdj.guidance=two_pass" "-Dsdj.guidance=auto" --type f16 --width 256 --height 256 --steps 4
#
# Use "-Dsdj.none" for a variant with no extra arguments. SDJ_BENCH_CP replaces the class path (default: the jar).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
[ $# -ge 3 ] || { sed -n 2,9p "$0"; exit 2; }
reps=$1 a=$2 b=$3
shift 3
jar=${SDJ_BENCH_CP:-bench/target/sdj-bench.jar}
[ -n "${SDJ_BENCH_CP:-}" ] || [ -f "$jar" ] || { echo "ab.sh: $jar is missing; build it (bench/README.md)" >&2; exit 2; }
out=$(mktemp -d /tmp/sdj-ab-XXXXXX)
defaults=(--model models/cache/sd15_random_seed1.safetensors --tokenizer ../shared/clip/merges.txt --backend cpu
          --threads 2 --sampler euler_a --cfg 7 --seed 42)
for ((r = 1; r <= reps; r++)); do
  for v in A B; do
    if [ "$v" = A ]; then args=$a; else args=$b; fi
    start=$(date +%s.%N)
    # shellcheck disable=SC2086 # the variant's JVM arguments are words
    native/bin/java $args -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$jar" io.sdj.bench.SdjRun \
      "${defaults[@]}" "$@" > "$out/$v.$r.out" 2> "$out/$v.$r.err" \
      || { echo "ab.sh: run $v $r failed, see $out/$v.$r.err" >&2; exit 1; }
    end=$(date +%s.%N)
    line=$(grep '^sdj-bench-result' "$out/$v.$r.out" | tail -1)
    echo "$line process=$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f", e - s }')" >> "$out/$v.results"
    echo "ab.sh: rep $r $v ($args): $line" >&2
  done
done
echo "A: $a"
echo "B: $b"
awk -v fa="$out/A.results" -v fb="$out/B.results" '
  function load(f, arr,   line, n, i, kv) {
    while ((getline line < f) > 0) {
      n = split(line, kv, " ")
      for (i = 2; i <= n; i++) { split(kv[i], p, "="); arr[p[1]] = arr[p[1]] " " p[2]; keys[p[1]] = 1 }
    }
  }
  function median(s,   v, n, i, j, t) {
    n = split(s, v, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] + 0 < v[i] + 0) { t = v[i]; v[i] = v[j]; v[j] = t }
    return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
  }
  BEGIN {
    load(fa, A); load(fb, B)
    printf "%-12s %12s %12s %8s\n", "figure", "A median", "B median", "B/A"
    for (k in keys) {
      ma = median(A[k]); mb = median(B[k])
      printf "%-12s %12.3f %12.3f %7.2fx\n", k, ma, mb, (ma == 0 ? 0 : mb / ma)
    }
  }'
echo "(runs in $out)"
