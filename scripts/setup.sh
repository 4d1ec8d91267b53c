#!/usr/bin/env bash
# Installs exactly what Kestrel needs on a fresh Debian 12 machine: LLVM/MLIR
# 22, clang-22, Ninja, ccache, CMake (Debian packages) and the Python test
# side (PyPI). Idempotent; prints nothing when everything is already there.
set -euo pipefail

APT_PACKAGES=(llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools clang-22
              libomp-22-dev cmake ninja-build ccache libgtest-dev
              libonnx-dev libprotobuf-dev)
PIP_PACKAGES=(numpy pytest lit onnx onnxruntime)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [[ $(id -u) -eq 0 ]] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

PYTHON=${PYTHON:-python3}
missing=()
for p in "${PIP_PACKAGES[@]}"; do
  "$PYTHON" -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('$p') is None)" \
    2>/dev/null || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: pip installing ${missing[*]}"
  "$PYTHON" -m pip install -q --disable-pip-version-check --root-user-action=ignore "${missing[@]}"
fi
