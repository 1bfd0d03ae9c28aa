#!/usr/bin/env bash
# Provisions ggml (CPU + Vulkan backends, optional CUDA) and the tools the build needs from Debian's packages
# into a project-local prefix, without touching the system's apt configuration or state.
#
#   native/provision.sh [--cuda] [--update-lock]
#
# The package set and every package's version and SHA-256 are pinned in native/runtime.lock (runtime-cuda.lock for
# --cuda). Without a lock file the dependency closure is resolved from the suite and the lock is written; with one,
# exactly the pinned versions are fetched and checked, and any difference is reported.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
suite=${SDJ_DEBIAN_SUITE:-sid}
mirror=${SDJ_DEBIAN_MIRROR:-http://deb.debian.org/debian}
prefix=${SDJ_PREFIX:-$here/prefix}
work=${SDJ_NATIVE_CACHE:-$here/.cache}
cuda=0
update=0
for a in "$@"; do
  case "$a" in
    --cuda) cuda=1 ;;
    --update-lock) update=1 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "provision: unknown option '$a' (expected --cuda or --update-lock)" >&2; exit 2 ;;
  esac
done

# What sdj needs. The rest of each closure is resolved by apt.
core_pkgs="libggml0 libggml-dev"
# ggml's BLAS backend takes the CPU backend's large matrix products (4-6x Debian's F16 dot-product kernel here);
# the OpenMP build of OpenBLAS shares libgomp's passive thread pool with ggml's CPU backend
blas_pkgs="libggml0-backend-blas libopenblas0-openmp"
vulkan_pkgs="libggml0-backend-vulkan mesa-vulkan-drivers"   # mesa-vulkan-drivers brings lavapipe (software Vulkan)
bindgen_pkgs="libclang1-19 libclang-common-19-dev libc6-dev linux-libc-dev"
cuda_pkgs="libggml0-backend-cuda"

log() { echo "[runtime] $*" >&2; }
die() { echo "[runtime] error: $*" >&2; exit 1; }

if [ "$(uname -m)" != x86_64 ]; then die "only x86_64 (amd64) is supported by the Debian provisioning; build ggml with native/CMakeLists.txt instead"; fi
for t in apt-get dpkg sha256sum; do command -v $t >/dev/null || die "'$t' is required (Debian/Ubuntu host) but was not found"; done

# --- a host ggml that the host can load as it is -----------------------------------------------------------------
if [ "${SDJ_USE_SYSTEM_GGML:-auto}" != 0 ] && command -v pkg-config >/dev/null && pkg-config --exists ggml 2>/dev/null; then
  libdir=$(pkg-config --variable=libdir ggml)
  if [ -e "$libdir/libggml.so" ] && ldd "$libdir/libggml.so" 2>&1 | grep -qv 'not found'; then
    log "using the host's ggml $(pkg-config --modversion ggml) from $libdir (set SDJ_USE_SYSTEM_GGML=0 to provision the prefix instead)"
    mkdir -p "$prefix"
    printf 'mode=system\nlibdir=%s\nincludedir=%s\n' "$libdir" "$(pkg-config --variable=includedir ggml)" > "$prefix/runtime.env"
    exit 0
  fi
fi

# --- private apt state for the suite -----------------------------------------------------------------------------
apt_dir=$work/apt-$suite$(if [ $cuda = 1 ]; then echo -nonfree; fi)
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$work/debs"
components="main contrib"
[ $cuda = 1 ] && components="$components non-free"   # the CUDA runtime libraries are in non-free
echo "deb $mirror $suite $components" > "$apt_dir/sources.list"
APT=(apt-get -q -oDir::State::Lists="$apt_dir/lists" -oDir::Etc::SourceList="$apt_dir/sources.list"
     -oDir::Etc::SourceParts=/nonexistent -oDir::Cache="$apt_dir/cache" -oDir::State::status=/dev/null
     -oDebug::NoLocking=1 -oAPT::Sandbox::User=root)
refresh_lists() {  # refresh_lists [force]: read the suite's package lists when missing, older than 12 h, or forced
  if [ "${1:-}" = force ] || [ -z "$(find "$apt_dir/lists" -maxdepth 1 -name '*Packages*' -mmin -720 2>/dev/null | head -1)" ]; then
    log "reading the $suite package lists"
    "${APT[@]}" update >"$work/apt-update.log" 2>&1 || { cat "$work/apt-update.log" >&2; die "apt-get update for $suite failed (is the Debian mirror reachable?)"; }
  fi
}

# resolve NAME... -> "name version" lines of the whole closure
resolve() {
  "${APT[@]}" install -s --no-install-recommends "$@" 2>"$work/resolve.err" | awk '/^Inst /{v=$3; sub(/^\(/,"",v); print $2, v}' \
    || { cat "$work/resolve.err" >&2; die "could not resolve $*"; }
}

lock=$here/runtime.lock
want="$core_pkgs $blas_pkgs $vulkan_pkgs $bindgen_pkgs"
if [ $cuda = 1 ]; then lock=$here/runtime-cuda.lock; want="$want $cuda_pkgs"; fi

# fetch NAME VERSION -> path of the .deb in the cache; status 3 (and a note in $work/download.log) when the
# mirror no longer offers that version
fetch() {
  local name=$1 version=$2 f
  f=$(ls "$work/debs/${name}_$(echo "$version" | sed 's/:/%3a/')"_*.deb 2>/dev/null | head -1 || true)
  if [ -z "$f" ]; then
    refresh_lists
    (cd "$work/debs" && "${APT[@]}" download "$name=$version" >"$work/download.log" 2>&1) || return 3
    f=$(ls "$work/debs/${name}_$(echo "$version" | sed 's/:/%3a/')"_*.deb | head -1)
  fi
  echo "$f"
}

# resolve the closure of $want from the suite as it is now, fetch it and (re)write the lock, showing what changed
write_lock() {
  refresh_lists "$@"
  log "resolving the package closure of: $want"
  # The NVIDIA driver's own libraries (libcuda1, libnvidia-*, nvidia-*) must come from the host, matching its kernel
  # module; they are left out of the prefix.
  resolve $want | grep -Ev '^(libcuda1|libnvidia-[^ ]*|nvidia-[^ ]*|glx-[^ ]*|update-glx) ' | sort > "$work/resolved.txt"
  [ -s "$work/resolved.txt" ] || die "apt resolved no packages for: $want"
  {
    echo "# sdj native runtime lock: Debian $suite packages (name version sha256 file). Written by native/provision.sh."
    echo "# Requested: $want"
    while read -r name version; do
      f=$(fetch "$name" "$version") || { cat "$work/download.log" >&2; die "apt resolved $name $version but cannot download it"; }
      echo "$name $version $(sha256sum "$f" | cut -d' ' -f1) $(basename "$f")"
    done < "$work/resolved.txt"
  } > "$lock.tmp"
  if [ -f "$lock" ]; then
    diff <(grep -v '^#' "$lock" | cut -d' ' -f1,2) <(grep -v '^#' "$lock.tmp" | cut -d' ' -f1,2) >&2 && log "lock unchanged" || log "lock changed (see the lines above: < old, > new)"
  fi
  mv "$lock.tmp" "$lock"
  log "wrote $lock"
}

# fetch and verify every pinned package: fills debs; missing gets the pins the mirror no longer has
verify_lock() {
  bad=0
  debs=()
  missing=()
  local name version sha file f got
  while read -r name version sha file; do
    case "$name" in ''|'#'*) continue ;; esac
    if ! f=$(fetch "$name" "$version"); then
      missing+=("$name $version")
      continue
    fi
    got=$(sha256sum "$f" | cut -d' ' -f1)
    if [ "$got" != "$sha" ]; then
      echo "[runtime] error: $name $version: SHA-256 is $got but $(basename "$lock") pins $sha (the mirror serves different bytes under the same version)" >&2
      bad=1
    fi
    debs+=("$f")
  done < "$lock"
  [ $bad = 0 ] || die "package checksums differ from $(basename "$lock"); refusing to use them"
}

if [ $update = 1 ] || [ ! -f "$lock" ]; then
  write_lock
fi
verify_lock
if [ ${#missing[@]} -gt 0 ]; then
  # Sid moved on: a pinned version was replaced by a newer upload and left the mirror. Fall back to what the suite
  # offers now, re-pin, and let the tests judge whether it still works (a fresh clone's CI must not break here).
  {
    echo "[runtime] ############################################################################################"
    echo "[runtime] WARNING: Debian $suite no longer offers these pinned versions:"
    for m in "${missing[@]}"; do
      cand=$("${APT[@]}" policy "${m%% *}" 2>/dev/null | awk '/Candidate:/{print $2}')
      echo "[runtime]   ${m%% *} ${m#* } (the mirror now has: ${cand:-nothing})"
    done
    echo "[runtime] Falling back to the versions $suite has now and re-pinning $(basename "$lock")."
    echo "[runtime] The tests decide whether they still work; commit the new lock if they pass."
    echo "[runtime] (SDJ_NO_REPIN=1 stops here instead.)"
    echo "[runtime] ############################################################################################"
  } >&2
  [ "${SDJ_NO_REPIN:-0}" != 1 ] || die "pinned versions are gone from $suite and SDJ_NO_REPIN=1 is set; run 'make runtime UPDATE_LOCK=1' to re-pin"
  write_lock force
  verify_lock
  [ ${#missing[@]} -eq 0 ] || die "even the freshly resolved versions cannot be downloaded: ${missing[*]} (see $work/download.log)"
  log "re-pinned $(basename "$lock") to what $suite offers now"
fi

# --- extract into the prefix (only when the lock changed) --------------------------------------------------------
# the stamp covers the lock and the prefix location (runtime.env and the ICD manifest hold absolute paths)
stamp="$(sha256sum "$lock" | cut -d' ' -f1) $( (cd "$prefix" 2>/dev/null && pwd -P) || echo "$prefix")"
if [ -f "$prefix/.stamp" ] && [ "$(cat "$prefix/.stamp")" = "$stamp" ]; then
  log "prefix $prefix is up to date ($(grep -vc '^#' "$lock") packages verified)"
  exit 0
fi
log "extracting ${#debs[@]} packages into $prefix"
rm -rf "$prefix.tmp"
mkdir -p "$prefix.tmp"
for f in "${debs[@]}"; do dpkg-deb -x "$f" "$prefix.tmp"; done

# lavapipe's ICD manifest names an absolute library path: point it into the prefix
icd_src=$(ls "$prefix.tmp"/usr/share/vulkan/icd.d/lvp_icd*.json 2>/dev/null | head -1 || true)
if [ -n "$icd_src" ]; then
  lib=$(ls "$prefix.tmp"/usr/lib/x86_64-linux-gnu/libvulkan_lvp.so | head -1)
  sed -E "s#\"library_path\": *\"[^\"]*\"#\"library_path\": \"${lib/#$prefix.tmp/$prefix}\"#" "$icd_src" > "$prefix.tmp/lavapipe_icd.json"
fi

# what update-alternatives would do on a Debian system: libblas.so.3 (which ggml's BLAS backend links) is OpenBLAS
blas_dir=$(ls -d "$prefix.tmp"/usr/lib/x86_64-linux-gnu/openblas-openmp 2>/dev/null | head -1 || true)
if [ -n "$blas_dir" ]; then
  for l in libblas.so.3 libopenblas.so.0; do ln -sf "openblas-openmp/$l" "$prefix.tmp/usr/lib/x86_64-linux-gnu/$l"; done
fi

ldso=usr/lib64/ld-linux-x86-64.so.2
[ -e "$prefix.tmp/$ldso" ] || ldso=lib64/ld-linux-x86-64.so.2
[ -e "$prefix.tmp/$ldso" ] || die "the extracted libc6 has no ld-linux-x86-64.so.2"
backends=$(dirname "$(find "$prefix.tmp" -name 'libggml-cpu*.so' | head -1)")
[ -n "$backends" ] || die "libggml0 brought no CPU backend (libggml-cpu*.so)"
{
  echo "mode=prefix"
  echo "loader=$prefix/$ldso"
  echo "libdir=$prefix/usr/lib/x86_64-linux-gnu"
  echo "backenddir=${backends/#$prefix.tmp/$prefix}"
  echo "includedir=$prefix/usr/include"
  [ -n "$icd_src" ] && echo "vulkan_icd=$prefix/lavapipe_icd.json"
  echo "clang_resource_dir=$(ls -d "$prefix.tmp"/usr/lib/llvm-19/lib/clang/* 2>/dev/null | head -1 | sed "s#^$prefix.tmp#$prefix#")"
  echo "libclang=$(ls "$prefix.tmp"/usr/lib/llvm-19/lib/libclang-19.so* "$prefix.tmp"/usr/lib/x86_64-linux-gnu/libclang-19.so* 2>/dev/null | head -1 | sed "s#^$prefix.tmp#$prefix#")"
} > "$prefix.tmp/runtime.env"
echo "$stamp" > "$prefix.tmp/.stamp"
rm -rf "$prefix"
mv "$prefix.tmp" "$prefix"
# the ICD path was computed for the final location already; libclang paths likewise
log "runtime ready in $prefix: $(du -sh "$prefix" | cut -f1)"
cat "$prefix/runtime.env" >&2
