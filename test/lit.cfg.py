# lit configuration of Kestrel's IR-level tests: one directory per component
# (Dialect/, Passes/, Pipeline/, kestrelc/), FileCheck on kestrel-opt and
# kestrelc output.

import os
import shutil

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "Kestrel"
# lit's internal shell on every platform: lit 23 (PyPI) refuses the external
# one, and the RUN lines use nothing it lacks.
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.kestrel_obj_root, "test")
config.excludes = ["numerics", "CMakeLists.txt", "lit.cfg.py",
                   "lit.site.cfg.py", "lit.site.cfg.py.in"]

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%kestrel_src", config.kestrel_src_root))
config.substitutions.append(("%kestrel_obj", config.kestrel_obj_root))

llvm_config.with_system_environment(["HOME", "INCLUDE", "LIB", "TMP", "TEMP"])
llvm_config.use_default_substitutions()
# not, count and FileCheck come from LLVM's tools directory.
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

tool_dirs = [config.kestrel_tools_dir, config.llvm_tools_dir]
llvm_config.add_tool_substitutions(["kestrel-opt", "kestrelc", "kestrel-run"],
                                   tool_dirs)

# kestrel-run's CUDA mode: whether it was compiled in, and whether this
# machine has the NVIDIA driver (tests of the no-GPU error need its absence).
if getattr(config, "kestrel_cuda_runtime", False):
    config.available_features.add("kestrel-cuda-runtime")
    config.substitutions.append(
        ("%mock_cuda_dir", os.path.join(config.kestrel_obj_root, "test", "mock-cuda")))
try:
    import ctypes
    ctypes.CDLL("libcuda.so.1")
    config.available_features.add("cuda-driver")
except OSError:
    pass

# ONNX tests need the onnx Python package (to write their models) and a
# kestrelc built with the importer.
# (lit itself may run under another Python than the tests' python3.)
import subprocess
has_onnx = subprocess.run(["python3", "-c", "import onnx"],
                          capture_output=True).returncode == 0
listed = subprocess.run([os.path.join(config.kestrel_tools_dir, "kestrelc"),
                         "--list-onnx-ops"], capture_output=True, text=True)
if has_onnx and listed.stdout.strip():
    config.available_features.add("onnx")

# PTX emitted by tests is assembled when ptxas is installed.
ptxas = shutil.which("ptxas") or (
    "/usr/local/cuda/bin/ptxas"
    if os.path.exists("/usr/local/cuda/bin/ptxas") else None)
if ptxas:
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", ptxas))
