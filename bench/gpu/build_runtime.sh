# Sourced by the device scripts in bench/gpu: builds the standalone Kestrel
# runtime and kestrel-run (lib/Runtime, CMake + the CUDA toolkit only).
#
#   build_runtime BUILD_DIR LOG_DIR
#
# Logs go to LOG_DIR/cmake.log and LOG_DIR/build.log; on failure the log is
# printed and the function returns non-zero (the callers run with set -e).
build_runtime() {
  local build=$1 logs=$2
  local src
  src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/lib/Runtime
  local gen=() cuda=()
  command -v ninja >/dev/null && gen=(-G Ninja)
  [[ -d /usr/local/cuda ]] && cuda=(-DCUDAToolkit_ROOT=/usr/local/cuda)
  if ! cmake -S "$src" -B "$build" "${gen[@]}" "${cuda[@]}" \
         -DCMAKE_BUILD_TYPE=Release >"$logs/cmake.log" 2>&1; then
    cat "$logs/cmake.log"; return 1
  fi
  if ! grep -q "Kestrel CUDA runtime: CUDA" "$logs/cmake.log"; then
    cat "$logs/cmake.log"; echo "CUDA toolkit not found" >&2; return 1
  fi
  if ! cmake --build "$build" -j "$(nproc)" >"$logs/build.log" 2>&1; then
    cat "$logs/build.log"; return 1
  fi
}
