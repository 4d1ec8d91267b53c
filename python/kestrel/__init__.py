"""Kestrel: an MLIR-based graph compiler for efficient LLM architectures.

This package holds the Python side of Kestrel: the compiler
(`kestrel.compile`, `kestrel.ir`, through the C API in libKestrelCAPI.so),
loading and calling compiled CPU libraries (`kestrel.runtime`), and
independent NumPy reference implementations of every op
(`kestrel.reference`), which the test suite uses as its oracle.
"""

from kestrel.api import (CompileError, CudaModule, compile, has_onnx, ir,  # noqa: F401
                         load_cuda, print_ir, version)
from kestrel.runtime import CpuLibrary, Manifest  # noqa: F401
