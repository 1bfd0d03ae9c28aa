#!/usr/bin/env bash
# The GPU check (issue 9, item 8), made to run once on the borrowed device machine through the `run` tool:
#
#   make device-bundle      # here, first: builds target/device-bundle (about 53 MiB), see bench/device/bundle.sh
#   run  carry=["target/device-bundle"]  timeout_s=570
#        command="bash bench/device/gpu-bench.sh target/device-bundle"
#
# There it unpacks the bundle, writes the deterministic SD 1.5 and SDXL stand-ins (from ../shared's generators),
# and runs sdj's CLI on the first Vulkan device:
#   golden-c01, golden-c08   two SD 1.5 golden cases at 64² (F16, q4_0), compared with sd.cpp's CPU images
#   sd15-512                 SD 1.5, 512², 20 steps, euler_a, cfg 7 (defaults: batch of two, regular attention)
#   sd15-512-again           the same again (shaders and pipelines are cached now)
#   sd15-512-two-pass        the same with two U-Net passes per step (-Dsdj.guidance=two_pass)
#   sd15-512-fa              the same with flash attention (--diffusion-fa)
#   sdxl-1024                SDXL, 1024², 20 steps, cfg 7 (defaults)
#   sdxl-1024-fa             the same with flash attention
# Each case records the process wall time, the time of the first sampling step, sdj's timings line and the peak
# GPU memory nvidia-smi saw (used memory above what was in use before the case). Everything goes to $OUT
# (results.tsv, bench.log, each case's log and image), and results.tsv is printed at the end.
#
# Locally, without an NVIDIA driver, SDJ_DEVICE_SMOKE=1 runs the same steps at 64², 1 step, SD 1.5 only, on the
# Vulkan driver named by SDJ_DEVICE_VK_ICD (lavapipe: native/prefix/lavapipe_icd.json, with
# SDJ_DEVICE_EXTRA_LIBS=native/prefix/usr/lib/x86_64-linux-gnu for its LLVM), to check the script and the bundle.
set -uo pipefail
bundle=$(cd "${1:?usage: gpu-bench.sh BUNDLE [OUT]}" && pwd)
out=${2:-${OUT:?set OUT or pass an output folder}}
work=${SDJ_DEVICE_WORK:-/tmp/sdj-device}
smoke=${SDJ_DEVICE_SMOKE:-0}
# device time is scarce: a case may take case_limit seconds, and no case starts after budget seconds
case_limit=${SDJ_DEVICE_CASE_LIMIT:-240}
budget=${SDJ_DEVICE_BUDGET:-420}
mkdir -p "$out" "$work/models"
t_start=$(date +%s)
log() { echo "[gpu-bench +$(($(date +%s) - t_start))s] $*" | tee -a "$out/bench.log" >&2; }

# --- runtime: sid's loader and libraries, the bundled Java runtime -------------------------------------------------
if [ ! -x "$work/jre/bin/java" ]; then tar -C "$work" -xzf "$bundle/jre.tar.gz" || exit 1; fi
P=$work/prefix
if [ ! -e "$P/usr/lib64/ld-linux-x86-64.so.2" ]; then mkdir -p "$P" && tar -C "$P" -xzf "$bundle/prefix.tar.gz" || exit 1; fi
libs=$P/usr/lib/x86_64-linux-gnu:$P/lib/x86_64-linux-gnu
nv=/usr/local/nvidia
if [ "$smoke" != 1 ]; then
  # NVIDIA's Vulkan driver and GLVND come from the host (RUNTIME-NOTES.md: Vulkan on the borrowed NVIDIA GPU)
  icd=$(ls $nv/share/vulkan/icd.d/nvidia_icd*.json /usr/share/vulkan/icd.d/nvidia_icd*.json \
        /etc/vulkan/icd.d/nvidia_icd*.json 2>/dev/null | head -1)
  egl=$(ls $nv/share/glvnd/egl_vendor.d/*nvidia*.json /usr/share/glvnd/egl_vendor.d/*nvidia*.json 2>/dev/null | head -1)
  if [ -n "$icd" ]; then export VK_DRIVER_FILES=$icd VK_ICD_FILENAMES=$icd
  else log "no NVIDIA Vulkan ICD manifest found; ggml will see only what the Vulkan loader finds"; fi
  [ -n "$egl" ] && export __EGL_VENDOR_LIBRARY_FILENAMES=$egl
  libs=$libs:$nv/lib64:/usr/lib/x86_64-linux-gnu
else
  export VK_DRIVER_FILES=${SDJ_DEVICE_VK_ICD:?smoke mode needs SDJ_DEVICE_VK_ICD} VK_ICD_FILENAMES=$SDJ_DEVICE_VK_ICD
  export GGML_VK_VISIBLE_DEVICES=0 GGML_VK_DISABLE_COOPMAT=1
  libs=$libs${SDJ_DEVICE_EXTRA_LIBS:+:$SDJ_DEVICE_EXTRA_LIBS}
fi
export OMP_WAIT_POLICY=passive GGML_NO_BACKTRACE=1 MESA_SHADER_CACHE_DIR=$work/mesa-cache
smi=$(command -v nvidia-smi || ls $nv/bin/nvidia-smi 2>/dev/null | head -1)
# a command to run java under and extra JVM options for sdj; run_case sets both as locals (bash scopes them dynamically)
limit=()
jopts=()
java_() {
  "${limit[@]}" "$P/usr/lib64/ld-linux-x86-64.so.2" --library-path "$libs:$work/jre/lib:$work/jre/lib/server" "$work/jre/bin/java" \
    -Dsdj.ggml.path="$P/usr/lib/x86_64-linux-gnu" -Dsdj.ggml.backends="$P/usr/lib/x86_64-linux-gnu/ggml/backends0" \
    --enable-native-access=ALL-UNNAMED "$@"
}
sdj() { java_ -Xmx8g "${jopts[@]}" -cp "$bundle/lib/*" io.sdj.cli.Main "$@"; }

log "host: $(nproc) cores, $(free -g 2>/dev/null | awk '/Mem:/{print $2 " GiB"}'), nvidia-smi: ${smi:-none}"
[ -n "$smi" ] && "$smi" --query-gpu=name,driver_version,memory.total,memory.used --format=csv >>"$out/bench.log" 2>&1
# item 8's CUDA run needs the CUDA 12 runtime (libcudart, libcublas) on the machine: Debian's CUDA backend alone is an
# 89 MiB .deb, over the 64 MiB a run carries, and libcublas12 is in neither main nor contrib. Record what the machine
# itself has.
log "CUDA libraries here: $(ls /usr/local/cuda*/lib64/libcudart.so* /usr/local/cuda*/lib64/libcublas.so* \
  /usr/lib/x86_64-linux-gnu/libcudart.so* /usr/lib/x86_64-linux-gnu/libcublas.so* $nv/lib64/libcuda.so* 2>/dev/null \
  | tr '\n' ' ')"
devices=$(sdj --list-devices 2>&1)
echo "$devices" | tee -a "$out/bench.log" >&2
device=$(echo "$devices" | awk '$3 == "vulkan" {print $1; exit}')
[ -n "$device" ] || { log "no Vulkan device: stopping (see bench.log)"; exit 1; }
log "using $device"

# --- models --------------------------------------------------------------------------------------------------------
sd15=$work/models/sd15_random_seed1.safetensors
sdxl=$work/models/sdxl_random_seed1.safetensors
if [ "$smoke" != 1 ] && [ ! -s "$sdxl" ]; then
  (java_ -cp "$bundle/classes/sdxl" RandomSdxl "$sdxl.tmp" 1 >"$out/gen-sdxl.log" 2>&1 && mv "$sdxl.tmp" "$sdxl") &
  gen_sdxl=$!
fi
if [ ! -s "$sd15" ]; then
  java_ -cp "$bundle/classes/sd15" RandomSd15 "$sd15.tmp" 1 >"$out/gen-sd15.log" 2>&1 && mv "$sd15.tmp" "$sd15" \
    || { log "writing the SD 1.5 stand-in failed: $(tail -3 "$out/gen-sd15.log")"; exit 1; }
fi
log "SD 1.5 stand-in written: $(tail -1 "$out/gen-sd15.log" 2>/dev/null)"

# --- cases ---------------------------------------------------------------------------------------------------------
printf 'case\trc\twall_s\tfirst_step_s\tpeak_vram_mib\ttimings\n' > "$out/results.tsv"
vram_used() { "$smi" --query-gpu=memory.used --format=csv,noheader,nounits 2>/dev/null | head -1; }
# run_case NAME [-D JAVA_OPTION] SDJ_ARGS...: one sdj process; its log and image go to $OUT
run_case() {
  local name=$1; shift
  local jopts=() limit=(timeout -k 10 "$case_limit")
  if [ "${1:-}" = -D ]; then jopts=("$2"); shift 2; fi
  if [ $(($(date +%s) - t_start)) -gt "$budget" ]; then
    log "case $name: skipped, the ${budget} s budget is spent"
    printf '%s\tskipped\n' "$name" >> "$out/results.tsv"
    return
  fi
  log "case $name: ${jopts[*]} $*"
  local base=0 sampler=
  if [ -n "$smi" ]; then
    base=$(vram_used)
    "$smi" --query-gpu=memory.used --format=csv,noheader,nounits -lms 100 >"$out/$name.vram" 2>/dev/null &
    sampler=$!
  fi
  local t0 t1 rc
  t0=$(date +%s.%N)
  sdj --backend "$device" --tokenizer "$bundle/data/merges.txt" -v -o "$out/$name.png" "$@" >"$out/$name.log" 2>&1
  rc=$?
  [ $rc = 124 ] && log "case $name: stopped after ${case_limit} s"
  t1=$(date +%s.%N)
  local peak=n/a
  if [ -n "$sampler" ]; then
    kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null
    peak=$(sort -n "$out/$name.vram" | tail -1)
    [ -n "$peak" ] && peak=$((peak - base))
  fi
  # "sampling: step 1/20 - 1.23s/it" or "- 4.56it/s"
  local first
  first=$(grep -m1 -o 'step 1/[0-9]* - [0-9.]*\(s/it\|it/s\)' "$out/$name.log" \
          | awk '{v=$4; if (v ~ /it\/s$/) {sub(/it\/s/,"",v); printf "%.3f", 1/v} else {sub(/s\/it/,"",v); print v}}')
  local timings
  timings=$(grep -m1 '^timings:' "$out/$name.log" || tail -1 "$out/$name.log")
  printf '%s\t%s\t%.1f\t%s\t%s\t%s\n' "$name" "$rc" "$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')" "${first:-?}" \
    "$peak" "$timings" >> "$out/results.tsv"
  log "case $name: rc $rc, first step ${first:-?} s, peak VRAM $peak MiB; $timings"
}
compare() {  # compare LABEL EXPECTED ACTUAL: their mean and largest difference, into results.tsv
  if [ -s "$2" ] && [ -s "$3" ]; then
    java_ -cp "$bundle/classes/tools" ImageDiff "$2" "$3" 2>&1 | sed "s/^/$1: /" | tee -a "$out/results.tsv" >&2
  else
    echo "$1: not compared (an image is missing)" | tee -a "$out/results.tsv" >&2
  fi
}
golden() {  # golden NAME FILE: one SD 1.5 golden case, its arguments from cases.tsv, compared with sd.cpp's image
  local name=$1 file=$2 args
  args=$(awk -F'\t' -v f="$file" '$1 == f {print $2}' "$bundle/data/golden-cases.tsv" \
         | sed -E "s#-m MODEL##; s# -o [^ ]+##; s# -t [0-9]+##; s# -v##")
  eval "run_case $name -m \"\$sd15\" $args"
  compare "$name vs sd.cpp" "$bundle/data/$file" "$out/$name.png"
}

golden golden-c01 c01_t2i64_eulera_discrete_s2_cfg7_seed42.png
golden golden-c08 c08_t2i64_eulera_discrete_s2_cfg7_seed42_q4_0.png
if [ "$smoke" = 1 ]; then size=64 steps=1; else size=512 steps=20; fi
prompt="a photo of an astronaut riding a horse on mars"
common=(-p "$prompt" -W $size -H $size --steps $steps --cfg-scale 7 --sampling-method euler_a -s 42)
run_case sd15-$size -m "$sd15" "${common[@]}"
run_case sd15-$size-again -m "$sd15" "${common[@]}"
run_case sd15-$size-two-pass -D -Dsdj.guidance=two_pass -m "$sd15" "${common[@]}"
run_case sd15-$size-fa -m "$sd15" "${common[@]}" --diffusion-fa
compare "sd15-$size batch of two vs two passes" "$out/sd15-$size.png" "$out/sd15-$size-two-pass.png"
compare "sd15-$size regular vs flash attention" "$out/sd15-$size.png" "$out/sd15-$size-fa.png"

if [ -n "${gen_sdxl:-}" ]; then
  wait "$gen_sdxl"
  if [ -s "$sdxl" ]; then
    log "SDXL stand-in written: $(tail -1 "$out/gen-sdxl.log")"
    xl=(-p "$prompt" -W 1024 -H 1024 --steps 20 --cfg-scale 7 --sampling-method euler_a -s 42)
    run_case sdxl-1024 -m "$sdxl" "${xl[@]}"
    run_case sdxl-1024-fa -m "$sdxl" "${xl[@]}" --diffusion-fa
    compare "sdxl-1024 regular vs flash attention" "$out/sdxl-1024.png" "$out/sdxl-1024-fa.png"
  else
    log "writing the SDXL stand-in failed: $(tail -3 "$out/gen-sdxl.log")"
  fi
fi
log "done"
cat "$out/results.tsv"
