#!/usr/bin/env bash
# Builds the carry bundle for the GPU check on the borrowed device (bench/device/gpu-bench.sh runs it there):
#
#   bench/device/bundle.sh [OUT]          (default target/device-bundle; `make device-bundle`)
#
# The device machine has no JDK, no network and no ggml, and a run carries at most 64 MiB of ignored files. So the
# bundle holds compressed archives that gpu-bench.sh unpacks there:
#   prefix.tar.gz  the pinned Debian sid libraries ggml's Vulkan backend needs (glibc 2.43 and its loader,
#                  libstdc++, libgomp, libggml0, libggml0-backend-vulkan, libvulkan1), plus GLVND and its X
#                  libraries, which NVIDIA's Vulkan driver loads (RUNTIME-NOTES.md). No lavapipe, no libclang.
#   jre.tar.gz     a jlink'ed Java runtime with the modules sdj uses.
#   lib/           the sdj jar and its runtime class path.
#   classes/       the checkpoint generators from ../shared and bench/device/ImageDiff.java, compiled.
#   data/          CLIP's merges.txt and the golden images the check compares against (inputs, never committed).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$root/target/device-bundle}
shared=${SDJ_SHARED:-$root/../shared}
cache=${SDJ_NATIVE_CACHE:-$root/native/.cache}
lock=$root/native/runtime.lock
log() { echo "[device-bundle] $*" >&2; }
die() { echo "[device-bundle] error: $*" >&2; exit 1; }

jdk=$(bash "$root/native/find-jdk.sh")
jar=$(ls "$root"/target/sdj-*.jar 2>/dev/null | grep -v -- '-sources\|-tests' | head -1 || true)
[ -n "$jar" ] && [ -f "$root/target/runtime-classpath.txt" ] || die "no built sdj jar in target/; run 'make build' first"
[ -f "$shared/golden/RandomSd15.java" ] || die "$shared/golden/RandomSd15.java not found (set SDJ_SHARED to the shared folder)"
[ -f "$lock" ] && [ -d "$cache/apt-sid/lists" ] || die "no provisioned runtime cache in $cache; run 'make runtime' first"

rm -rf "$out" "$out.tmp"
mkdir -p "$out.tmp"/{lib,classes,data,debs,prefix}
t=$out.tmp

# --- the prefix: pinned packages from the lock, GLVND from the suite ------------------------------------------------
for p in libc6 libstdc++6 libgcc-s1 libgomp1 gcc-16-base libggml0 libggml0-backend-vulkan libvulkan1 \
         libx11-6 libx11-data libxcb1 libbsd0 libmd0; do
  f=$(awk -v p="$p" '$1 == p {print $4}' "$lock")
  [ -n "$f" ] && [ -f "$cache/debs/$f" ] || die "$p is not in $lock or not downloaded to $cache/debs (run 'make runtime')"
  cp "$cache/debs/$f" "$t/debs/"
done
a=$cache/apt-sid
(cd "$t/debs" && apt-get -q -oDir::State::Lists="$a/lists" -oDir::Etc::SourceList="$a/sources.list" \
   -oDir::Etc::SourceParts=/nonexistent -oDir::Cache="$a/cache" -oDir::State::status=/dev/null -oDebug::NoLocking=1 \
   -oAPT::Sandbox::User=root download libglvnd0 libegl1 libglx0 libgl1 libopengl0 libgles2 libxext6 libxau6 libxdmcp6 \
   >"$t/apt-download.log" 2>&1) || { cat "$t/apt-download.log" >&2; die "could not download GLVND from Debian sid"; }
for f in "$t"/debs/*.deb; do dpkg-deb -x "$f" "$t/prefix"; done
# not needed on the device: documentation, ggml's test programs, CPU variants for CPUs older than Haswell
rm -rf "$t"/prefix/usr/share/{doc,man,lintian,bug,locale,gcc,gdb} "$t"/prefix/usr/lib/x86_64-linux-gnu/gconv \
  "$t"/prefix/usr/libexec "$t"/prefix/usr/lib/x86_64-linux-gnu/ggml/backends0/libggml-cpu-{sandybridge,ivybridge,piledriver}.so
tar -C "$t/prefix" -cf - . | gzip -9 > "$t/prefix.tar.gz"
rm -rf "$t/prefix" "$t/debs" "$t/apt-download.log"

# --- a Java runtime with sdj's modules ------------------------------------------------------------------------------
"$jdk/bin/jlink" --add-modules java.base,java.desktop,java.net.http,java.logging,jdk.unsupported \
  --strip-debug --no-header-files --no-man-pages --output "$t/jre"
tar -C "$t" -cf - jre | gzip -9 > "$t/jre.tar.gz"
rm -rf "$t/jre"

# --- sdj, the generators, the inputs ----------------------------------------------------------------------------------
cp "$jar" "$t/lib/"
IFS=: read -r -a deps < "$root/target/runtime-classpath.txt" || true
for j in "${deps[@]}"; do cp "$j" "$t/lib/"; done
# each in its own folder: the generators are single-file programs and may share helper class names
"$jdk/bin/javac" -d "$t/classes/sd15" "$shared/golden/RandomSd15.java"
"$jdk/bin/javac" -d "$t/classes/sdxl" "$shared/golden-sdxl/RandomSdxl.java"
"$jdk/bin/javac" -d "$t/classes/tools" "$root/bench/device/ImageDiff.java"
cp "$shared/clip/merges.txt" "$t/data/"
cp "$shared/golden/cases.tsv" "$t/data/golden-cases.tsv"
for c in c01 c08; do cp "$shared"/golden/${c}_*.png "$t/data/"; done

mv "$t" "$out"
size=$(du -sb "$out" | cut -f1)
log "wrote $out: $((size / 1048576)) MiB ($(cd "$out" && ls | tr '\n' ' '))"
[ "$size" -lt $((60 * 1048576)) ] || die "the bundle is $((size / 1048576)) MiB; the device tool carries at most 64 MiB"
