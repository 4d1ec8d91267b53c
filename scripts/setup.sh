#!/usr/bin/env bash
# Installs exactly what Kestrel needs on a fresh Debian 12 machine: LLVM/MLIR
# 22, clang-22, Ninja, ccache, CMake (Debian packages) and the Python test
# side (PyPI). Idempotent; prints nothing when everything is already there.
set -euo pipefail

APT_PACKAGES=(llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools clang-22
              libomp-22-dev cmake ninja-build ccache libgtest-dev
              libonnx-dev libprotobuf-dev)
# Pinned to the versions the suite last passed with on a fresh machine: a
# new release on PyPI must not change what CI runs (lit 23.1 once rejected
# our lit configuration overnight). Installed when the module is missing.
PIP_PACKAGES=(numpy==2.4.6 pytest==9.2.0 lit==23.1.5 onnx==1.23.2
              onnxruntime==1.32.0)

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
  "$PYTHON" -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('${p%%=*}') is None)" \
    2>/dev/null || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: pip installing ${missing[*]}"
  "$PYTHON" -m pip install -q --disable-pip-version-check --root-user-action=ignore "${missing[@]}"
fi

# PyTorch (CPU use only) and onnxscript, for the tests that export
# nn.Modules (kestrel.compile(module), the README example, HF-style blocks):
# PyPI's torch without its CUDA dependencies, plus the pure-Python ones and
# the four NVIDIA libraries `import torch` loads anyway, at the versions
# torch names. pip reports the CUDA dependencies left out as conflicts;
# its log is shown only when the install fails. Without torch those tests
# skip, so a failed install is reported, not fatal (KESTREL_NO_TORCH=1
# skips it).
torch_deps() {
  "$PYTHON" -c '
import importlib.metadata as md, re
wanted = {"filelock", "typing-extensions", "sympy", "networkx", "jinja2",
          "fsspec", "nvidia-cusparselt-cu13", "nvidia-nvshmem-cu13",
          "nvidia-nccl-cu13"}
for req in md.requires("torch") or []:
    spec = req.split(";")[0].strip()
    name = re.split(r"[ <>=!~\[(]", spec, maxsplit=1)[0]
    if name.lower().replace("_", "-") in wanted:
        print(spec.replace(" ", ""))
print("nvidia-cufile")'
}
if [[ -z ${KESTREL_NO_TORCH:-} ]] &&
   ! "$PYTHON" -c "import torch, onnxscript" 2>/dev/null; then
  echo "setup: pip installing torch (CPU use, no CUDA dependencies) and onnxscript"
  log=$(mktemp)
  pipq=("$PYTHON" -m pip install -q --disable-pip-version-check --root-user-action=ignore)
  if ! { "${pipq[@]}" --no-deps torch==2.15.0 &&
         mapfile -t deps < <(torch_deps) &&
         "${pipq[@]}" "${deps[@]}" onnxscript==0.7.2 &&
         "$PYTHON" -c "import torch, onnxscript"; } >"$log" 2>&1; then
    cat "$log" >&2
    echo "setup: warning: torch could not be installed; the tests that need it will skip" >&2
  fi
  rm -f "$log"
fi

# transformers, for the tests that export Hugging Face's own functions
# (the chunked gated delta rule of Qwen3-Next) in shapes other than the
# committed exports; those tests skip without it.
if [[ -z ${KESTREL_NO_TORCH:-} ]] && "$PYTHON" -c "import torch" 2>/dev/null &&
   ! "$PYTHON" -c "import transformers" 2>/dev/null; then
  echo "setup: pip installing transformers"
  "$PYTHON" -m pip install -q --disable-pip-version-check --root-user-action=ignore \
    transformers==5.25.0 ||
    echo "setup: warning: transformers could not be installed; the tests that need it will skip" >&2
fi
