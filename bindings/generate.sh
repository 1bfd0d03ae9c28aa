#!/usr/bin/env bash
# Generates the ggml bindings (package io.sdj.ggml, header class ggml_h) into the directory given as $1, and the
# record of the headers they came from (io/sdj/ggml/ggml-expectations.properties: ggml version, GGML_TYPE_* ids,
# GGML_MAX_* sizes) into the resource directory $2 (default: generated-resources/ggml beside $1's parent).
# sdj compares that record with the library it loads (io.sdj.runtime.GgmlAbiCheck).
#
#   bash bindings/generate.sh target/generated-sources/ggml [target/generated-resources/ggml]
#
# Paths come from $SDJ_PREFIX/runtime.env (default native/prefix/runtime.env):
#   mode=prefix: includedir, libclang, clang_resource_dir; the prefix is also the sysroot for libc headers.
#   mode=system, mode=built (make native): includedir (and libdir for the version); libclang is looked up on the
#   host (or given as $LIBCLANG, with $CLANG_RESOURCE_DIR).
# With $JEXTRACT set, real jextract (22+) runs instead of sdj's generator, restricted to the ggml headers.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:?usage: generate.sh OUTPUT_DIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)
res_out=${2:-$(dirname "$(dirname "$out")")/generated-resources/ggml}
prefix=${SDJ_PREFIX:-$root/native/prefix}
env_file=$prefix/runtime.env
[ -f "$env_file" ] || { echo "generate.sh: $env_file not found (run make runtime, or set SDJ_PREFIX)" >&2; exit 1; }
rt_mode= rt_includedir= rt_libdir= rt_libclang= rt_clang_resource_dir=
while IFS='=' read -r k v; do
  case "$k" in mode|includedir|libdir|libclang|clang_resource_dir) printf -v "rt_$k" '%s' "$v" ;; esac
done < "$env_file"
[ -n "$rt_includedir" ] && [ -f "$rt_includedir/ggml.h" ] || { echo "generate.sh: no ggml.h under includedir=$rt_includedir ($env_file)" >&2; exit 1; }

headers=(ggml.h ggml-alloc.h ggml-backend.h ggml-cpu.h gguf.h)
for opt in ggml-vulkan.h ggml-cuda.h; do
  [ -f "$rt_includedir/$opt" ] && headers+=("$opt")
done

# ggml's version as its package files state it: ggml.pc (Debian, standalone builds) or the CMake version file
ggml_version() {
  local f v
  for f in "$rt_libdir/pkgconfig/ggml.pc" "$rt_includedir/../lib/pkgconfig/ggml.pc" "$rt_includedir/../share/pkgconfig/ggml.pc"; do
    [ -f "$f" ] && v=$(sed -n 's/^Version: *//p' "$f" | head -1) && [ -n "$v" ] && { echo "$v"; return; }
  done
  for f in "$rt_libdir"/cmake/ggml/ggml-version.cmake "$rt_libdir"/cmake/ggml/ggml-config-version.cmake \
           "$rt_includedir"/../lib*/cmake/ggml/ggml-version.cmake "$rt_includedir"/../lib*/cmake/ggml/ggml-config-version.cmake; do
    [ -f "$f" ] && v=$(sed -n 's/^ *set(PACKAGE_VERSION "\([^"]*\)").*/\1/p' "$f" | head -1) && [ -n "$v" ] && { echo "$v"; return; }
  done
  echo unknown
}

# the record of what the headers said, read back from the generated constants (both generators emit
# 'private static final int NAME = (int)VALUEL;')
write_expectations() {
  local h="$out/io/sdj/ggml/ggml_h.java" f="$res_out/io/sdj/ggml/ggml-expectations.properties"
  [ -f "$h" ] || { echo "generate.sh: $h was not generated" >&2; exit 1; }
  mkdir -p "$(dirname "$f")"
  {
    echo "# The ggml headers sdj's bindings were generated from (bindings/generate.sh). Checked at load time."
    echo "ggml.version=$(ggml_version)"
    echo "ggml.headers=$rt_includedir"
    echo "ggml.source=$rt_mode"
    grep -hoE 'static final int (GGML_TYPE_[A-Z0-9_]+|GGML_MAX_[A-Z_]+) = \(int\)-?[0-9]+L;' "$out"/io/sdj/ggml/ggml_h*.java \
      | sed -E 's/static final int ([A-Z0-9_]+) = \(int\)(-?[0-9]+)L;/\1=\2/' | sort -u
  } > "$f.tmp"
  grep -q '^GGML_TYPE_F32=' "$f.tmp" && grep -q '^GGML_MAX_DIMS=' "$f.tmp" \
    || { echo "generate.sh: could not read GGML_TYPE_F32 / GGML_MAX_DIMS back from the generated bindings" >&2; exit 1; }
  mv "$f.tmp" "$f"
  echo "generate.sh: ggml $(sed -n 's/^ggml.version=//p' "$f") headers recorded in $f" >&2
}

if [ -n "${JEXTRACT:-}" ]; then
  work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
  for h in "${headers[@]}"; do echo "#include \"$h\""; done > "$work/ggml_wrapper.h"
  # Keep only what the ggml headers declare (jextract would otherwise bind libc too).
  "$JEXTRACT" -I "$rt_includedir" --dump-includes "$work/all.txt" "$work/ggml_wrapper.h"
  pattern=$(printf '%s|' "${headers[@]}"); pattern="/(${pattern%|})\$"
  grep -E "^--include-[a-z]+ [^ ]+ +# header: .*${pattern//./\\.}" "$work/all.txt" | sed 's/ *#.*$//' > "$work/includes.txt" || true
  filter=()
  if [ -s "$work/includes.txt" ]; then
    filter=(@"$work/includes.txt")
  else
    echo "generate.sh: could not read jextract's --dump-includes output; binding every included header" >&2
  fi
  rm -rf "$out/io/sdj/ggml"
  "$JEXTRACT" --target-package io.sdj.ggml --header-class-name ggml_h --output "$out" \
    -I "$rt_includedir" "${filter[@]}" "$work/ggml_wrapper.h"
  exit 0
fi

args=()
case "$rt_mode" in
  prefix)
    [ -f "$rt_libclang" ] || { echo "generate.sh: libclang=$rt_libclang missing ($env_file)" >&2; exit 1; }
    args+=(--libclang "$rt_libclang" --resource-dir "$rt_clang_resource_dir" --sysroot "$prefix") ;;
  system|built)
    # a host ggml, or one built from source by 'make native': both use the host's glibc, so the host's libclang
    lib=${LIBCLANG:-}
    if [ -z "$lib" ]; then
      # the C API library (libclang.so.N / libclang-N.so.N), not libclang-cpp; the newest version wins
      for c in /usr/lib/llvm-*/lib/libclang.so.* /usr/lib/llvm-*/lib/libclang-[0-9]*.so* \
               /usr/lib/x86_64-linux-gnu/libclang-[0-9]*.so* /usr/lib/x86_64-linux-gnu/libclang.so.* \
               /usr/lib64/libclang.so* /usr/lib/libclang.so*; do
        [ -f "$c" ] && lib=$c
      done
    fi
    [ -n "$lib" ] && [ -f "$lib" ] || { echo "generate.sh: mode=$rt_mode needs the host's libclang${lib:+ (LIBCLANG=$lib does not exist)} (apt install libclang1-NN, or set LIBCLANG=/path/libclang.so)" >&2; exit 1; }
    res=${CLANG_RESOURCE_DIR:-}
    if [ -z "$res" ]; then
      llvm=$(dirname "$(dirname "$(readlink -f "$lib")")")
      for d in "$llvm"/lib/clang/*; do [ -f "$d/include/stdbool.h" ] && res=$d; done
    fi
    [ -n "$res" ] || { echo "generate.sh: no clang resource dir (stdbool.h) next to $lib; install libclang-common-NN-dev or set CLANG_RESOURCE_DIR" >&2; exit 1; }
    args+=(--libclang "$lib" --resource-dir "$res") ;;
  *) echo "generate.sh: unknown mode '$rt_mode' in $env_file (expected prefix, system or built)" >&2; exit 1 ;;
esac

jdk=$("$root/native/find-jdk.sh")
classes=$root/target/bindgen-classes
mkdir -p "$classes"
"$jdk/bin/javac" -d "$classes" $(find "$root/bindings/src" -name '*.java')
export LIBCLANG_DISABLE_CRASH_RECOVERY=1
SDJ_PREFIX=$prefix "$root/native/bin/java" -cp "$classes" io.sdj.bindgen.Main "${args[@]}" -I "$rt_includedir" \
  --target-package io.sdj.ggml --header-class-name ggml_h --output "$out" "${headers[@]}"
write_expectations
