#!/usr/bin/env bash
# The benchmark rows of the speed issue, one EndToEnd table each, from the repository root (make bench-suite):
#
#   1. SD 1.5, 256², 4 steps, euler_a, cfg 7: f16 and q4_0 (quantized on load)
#   2. SD 1.5, 512², 20 steps (sd-cli's default size and steps): f16
#   3. SD 1.5 as a q4_0 GGUF written by `sdj -M convert` (sd.cpp's type rule), 256², 4 steps, stored types
#   4. SD 2.1 768-v stand-in, 768², 2 steps: f16 and q8_0
#   5. SDXL stand-in, 1024², 1 step: f16 and q8_0 (peak RSS, load, s/step, decode)
#
# ROWS picks rows (default "1 2 3 4 5"); REPS the repetitions (default 2; SDXL and 512² rows use 1).
# COMPARE is a --compare command run after each sdj run of rows 1-3, alternating A B A B: e.g. sd-cli, or a previous
# sdj build (`/path/to/old/bin/sdj -m {model} ... --type {type}`). The models are the deterministic stand-ins
# (models/cache; the SD 2.1 and SDXL ones are written from ../shared by their generators when missing).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
JAVA_HOME=${JAVA_HOME:-$(native/find-jdk.sh)}
export JAVA_HOME
shared=${SDJ_SHARED:-$root/../shared}
cache=models/cache
rows=${ROWS:-1 2 3 4 5}
reps=${REPS:-2}
mkdir -p "$cache"

mvn -B -q install -DskipTests
mvn -B -q -f bench/pom.xml package -DskipTests
bench=(native/bin/java -cp bench/target/sdj-bench.jar io.sdj.bench.EndToEnd)
compare=()
[ -n "${COMPARE:-}" ] && compare=(--compare "$COMPARE")

stand_in() { # name generator: writes models/cache/<name> with ../shared's generator when missing
  if [ ! -f "$cache/$1" ]; then
    echo "writing $cache/$1 with $2" >&2
    "$JAVA_HOME/bin/java" "$shared/$2" "$cache/$1.tmp" 1 && mv "$cache/$1.tmp" "$cache/$1"
  fi
  echo "$cache/$1"
}

sd15=$(stand_in sd15_random_seed1.safetensors golden/RandomSd15.java)
for row in $rows; do
  case $row in
    1) echo "== row 1: SD 1.5, 256², 4 steps, f16 and q4_0"
       "${bench[@]}" --model "$sd15" --type f16,q4_0 --width 256 --height 256 --steps 4 --reps "$reps" "${compare[@]}" ;;
    2) echo "== row 2: SD 1.5, 512², 20 steps, f16"
       "${bench[@]}" --model "$sd15" --type f16 --width 512 --height 512 --steps 20 --reps 1 "${compare[@]}" ;;
    3) gguf=$cache/sd15_q4_0.gguf
       [ -f "$gguf" ] || bin/sdj -M convert -m "$sd15" -o "$gguf" --type q4_0
       echo "== row 3: SD 1.5 q4_0 GGUF, 256², 4 steps, stored types"
       "${bench[@]}" --model "$gguf" --type file --width 256 --height 256 --steps 4 --reps "$reps" ;;
    4) sd2=$(stand_in sd2_random_seed1.safetensors golden-sd2/RandomSd2.java)
       echo "== row 4: SD 2.1 768-v, 768², 2 steps, f16 and q8_0"
       "${bench[@]}" --model "$sd2" --type f16,q8_0 --width 768 --height 768 --steps 2 --reps 1 ;;
    5) sdxl=$(stand_in sdxl_random_seed1.safetensors golden-sdxl/RandomSdxl.java)
       echo "== row 5: SDXL, 1024², 1 step, f16 and q8_0"
       "${bench[@]}" --model "$sdxl" --type f16,q8_0 --width 1024 --height 1024 --steps 1 --reps 1 ;;
    *) echo "bench/suite.sh: unknown row '$row' (rows are 1-5)" >&2; exit 2 ;;
  esac
done
