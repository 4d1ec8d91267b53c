"""`kestrel.compile` and `kestrel.ir`: the compiler from Python.

The package talks to libKestrelCAPI.so (include/kestrel-c/Kestrel.h) through
ctypes: a small stable C interface keeps the Python side free of a
compiled extension (no C++ ABI coupling to the interpreter), and the same
library serves any language with a C FFI. Found through $KESTREL_CAPI_LIB,
then the build tree of this checkout.
"""

from __future__ import annotations

import atexit
import ctypes
import os
import shutil
import tempfile
from pathlib import Path

from kestrel.runtime import CpuLibrary

_REPO = Path(__file__).resolve().parents[2]


class CompileError(RuntimeError):
    """The compiler rejected the input; the message holds its diagnostics
    (file:line:column: error: ...)."""


class _Options(ctypes.Structure):
    _fields_ = [("target", ctypes.c_char_p), ("emit", ctypes.c_char_p),
                ("opt_level", ctypes.c_int), ("reference_lowering", ctypes.c_int),
                ("cuda_path", ctypes.c_char_p), ("extra_passes", ctypes.c_char_p)]


_lib = None


def _capi():
    global _lib
    if _lib is not None:
        return _lib
    candidates = [os.environ.get("KESTREL_CAPI_LIB"),
                  Path(__file__).with_name("libKestrelCAPI.so"),
                  _REPO / "build" / "lib" / "libKestrelCAPI.so"]
    for cand in candidates:
        if cand and Path(cand).exists():
            lib = ctypes.CDLL(str(cand))
            break
    else:
        raise FileNotFoundError(
            "libKestrelCAPI.so not found: build Kestrel (scripts/build.sh) or "
            "set KESTREL_CAPI_LIB")
    lib.kestrel_compile.restype = ctypes.c_int
    lib.kestrel_compile.argtypes = [ctypes.c_char_p, ctypes.c_size_t,
                                    ctypes.c_char_p, ctypes.POINTER(_Options),
                                    ctypes.c_char_p,
                                    ctypes.POINTER(ctypes.c_void_p)]
    lib.kestrel_print_ir.restype = ctypes.c_void_p
    lib.kestrel_print_ir.argtypes = [ctypes.c_char_p, ctypes.c_size_t,
                                     ctypes.c_char_p,
                                     ctypes.POINTER(ctypes.c_void_p)]
    lib.kestrel_free.argtypes = [ctypes.c_void_p]
    lib.kestrel_version.restype = ctypes.c_char_p
    _lib = lib
    return lib


def _take_string(lib, ptr) -> str:
    if not ptr:
        return ""
    text = ctypes.string_at(ptr).decode()
    lib.kestrel_free(ptr)
    return text


def _source_text(source) -> tuple[bytes, str]:
    """(MLIR text, name for diagnostics) from a path, text or ModelProto."""
    if type(source).__name__ == "ModelProto":
        raise NotImplementedError(
            "ONNX models are not supported by this build yet; write the model "
            "in the kestrel dialect")
    if isinstance(source, os.PathLike) or (
            isinstance(source, str) and "{" not in source
            and Path(source).exists()):
        path = Path(source)
        return path.read_bytes(), str(path)
    if isinstance(source, str):
        return source.encode(), "<string>"
    raise TypeError(f"cannot compile a {type(source).__name__}: pass a path, "
                    "MLIR text or an onnx.ModelProto")


def version() -> str:
    return _capi().kestrel_version().decode()


def ir(source) -> str:
    """The module after Kestrel's target-independent passes, as MLIR text."""
    lib = _capi()
    text, name = _source_text(source)
    diags = ctypes.c_void_p()
    out = lib.kestrel_print_ir(text, len(text), name.encode(), ctypes.byref(diags))
    messages = _take_string(lib, diags.value)
    if not out:
        raise CompileError(messages or "compilation failed")
    return _take_string(lib, out)


def print_ir(source) -> None:
    print(ir(source), end="")


class CudaModule:
    """PTX and launch manifest for a CUDA target (run them with kestrel-run
    or lib/Runtime on a GPU machine)."""

    def __init__(self, ptx: Path, manifest: Path):
        self.ptx, self.manifest = ptx, manifest

    def __repr__(self):
        return f"CudaModule(ptx={str(self.ptx)!r}, manifest={str(self.manifest)!r})"


_workdirs: list[str] = []
atexit.register(lambda: [shutil.rmtree(d, ignore_errors=True) for d in _workdirs])


def compile(source, target: str = "cpu", *, output: str | os.PathLike | None = None,
            emit: str | None = None, opt_level: int = 3,
            reference_lowering: bool = False, cuda_path: str | None = None,
            extra_passes: str | None = None):
    """Compiles a model given as a path, MLIR text or (later) an
    onnx.ModelProto.

    target "cpu" returns a `CpuLibrary` whose functions take and return
    NumPy arrays; "cuda:sm_90a" (or sm_80, ...) returns a `CudaModule`.
    With `emit` other than the target's default, returns the output path.
    Raises `CompileError` with the compiler's diagnostics.
    """
    lib = _capi()
    text, name = _source_text(source)
    cuda = target.startswith("cuda:")
    default_emit = "ptx" if cuda else "so"
    if output is None:
        workdir = tempfile.mkdtemp(prefix="kestrel-")
        _workdirs.append(workdir)
        suffix = {"so": ".so", "ptx": ".ptx", "obj": ".o", "llvm": ".ll",
                  "mlir": ".mlir"}.get(emit or default_emit, ".out")
        output = Path(workdir) / ("module" + suffix)
    output = Path(output)
    opts = _Options(target.encode(), emit.encode() if emit else None, opt_level,
                    int(reference_lowering),
                    cuda_path.encode() if cuda_path else None,
                    extra_passes.encode() if extra_passes else None)
    diags = ctypes.c_void_p()
    rc = lib.kestrel_compile(text, len(text), name.encode(), ctypes.byref(opts),
                             str(output).encode(), ctypes.byref(diags))
    messages = _take_string(lib, diags.value)
    if rc != 0:
        raise CompileError(messages or "compilation failed")
    if (emit or default_emit) != default_emit:
        return output
    if cuda:
        return CudaModule(output, output.with_suffix(".manifest"))
    return CpuLibrary(output)
