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
import errno
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
                ("cuda_path", ctypes.c_char_p), ("extra_passes", ctypes.c_char_p),
                ("precision", ctypes.c_char_p), ("report_path", ctypes.c_char_p)]


_lib = None


def _open_library(name: str, env: str, build_dirs: list[str], hint: str):
    """$env, then beside this package, then the checkout's build folders."""
    candidates = [os.environ.get(env), Path(__file__).with_name(name)]
    candidates += [_REPO / d / "lib" / name for d in build_dirs]
    for cand in candidates:
        if cand and Path(cand).exists():
            return ctypes.CDLL(str(cand))
    raise FileNotFoundError(f"{name} not found: {hint} or set {env}")


def _capi():
    global _lib
    if _lib is not None:
        return _lib
    lib = _open_library("libKestrelCAPI.so", "KESTREL_CAPI_LIB", ["build"],
                        "build Kestrel (scripts/build.sh)")
    lib.kestrel_compile.restype = ctypes.c_int
    lib.kestrel_compile.argtypes = [ctypes.c_char_p, ctypes.c_size_t,
                                    ctypes.c_char_p, ctypes.POINTER(_Options),
                                    ctypes.c_char_p,
                                    ctypes.POINTER(ctypes.c_void_p)]
    lib.kestrel_print_ir.restype = ctypes.c_void_p
    lib.kestrel_print_ir.argtypes = [ctypes.c_char_p, ctypes.c_size_t,
                                     ctypes.c_char_p,
                                     ctypes.POINTER(ctypes.c_void_p)]
    lib.kestrel_import_onnx.restype = ctypes.c_void_p
    lib.kestrel_import_onnx.argtypes = [ctypes.c_char_p,
                                        ctypes.POINTER(ctypes.c_char_p),
                                        ctypes.c_size_t,
                                        ctypes.POINTER(ctypes.c_void_p)]
    lib.kestrel_has_onnx.restype = ctypes.c_int
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


def _import_onnx(path: Path, input_shapes) -> bytes:
    """MLIR text of the ONNX model at `path`, imported by the C++ importer
    (the same one kestrelc uses)."""
    lib = _capi()
    specs = [s if isinstance(s, str) else
             f"{s[0]}={'x'.join(str(d) for d in s[1])}"
             for s in (input_shapes.items() if isinstance(input_shapes, dict)
                       else input_shapes or ())]
    array = (ctypes.c_char_p * max(len(specs), 1))(
        *[spec.encode() for spec in specs])
    diags = ctypes.c_void_p()
    out = lib.kestrel_import_onnx(str(path).encode(), array, len(specs),
                                  ctypes.byref(diags))
    messages = _take_string(lib, diags.value)
    if not out:
        raise CompileError(messages or f"{path}: ONNX import failed")
    return _take_string(lib, out).encode()


def _source_text(source, input_shapes=None) -> tuple[bytes, str]:
    """(MLIR text, name for diagnostics) from a path (.mlir or .onnx), MLIR
    text or an onnx.ModelProto."""
    if type(source).__name__ == "ModelProto":
        # The importer reads files (it resolves external data next to them);
        # a ModelProto holds its tensors in memory, so it is written whole.
        with tempfile.TemporaryDirectory(prefix="kestrel-onnx-") as tmp:
            path = Path(tmp) / ((source.graph.name or "model") + ".onnx")
            path.write_bytes(source.SerializeToString())
            return _import_onnx(path, input_shapes), f"<onnx {path.name}>"
    if isinstance(source, str) and not source.strip():
        raise ValueError("empty source: pass a path (.mlir or .onnx), MLIR "
                         "text or an onnx.ModelProto")
    if isinstance(source, os.PathLike) or (
            isinstance(source, str) and _looks_like_path(source)):
        path = Path(source)
        if not path.exists():
            raise FileNotFoundError(errno.ENOENT, "no such model file",
                                    str(path))
        if path.suffix == ".onnx":
            return _import_onnx(path, input_shapes), str(path)
        return path.read_bytes(), str(path)
    if isinstance(source, str):
        return source.encode(), "<string>"
    raise TypeError(f"cannot compile a {type(source).__name__}: pass a path, "
                    "MLIR text or an onnx.ModelProto")


def _looks_like_path(text: str) -> bool:
    """Whether a string given as a model is a file name rather than MLIR
    text: it names an existing file, ends in a model suffix, or has none of
    the characters every module has (braces, newlines, %, @)."""
    if "\n" in text:
        return False
    try:
        if Path(text).exists():
            return True
    except OSError:  # e.g. longer than a file name may be
        return False
    if text.rstrip().endswith((".onnx", ".mlir", ".mlirbc")):
        return True
    return not any(c in text for c in "{}%@")


def has_onnx() -> bool:
    """Whether this build imports ONNX models (built with libonnx-dev)."""
    return bool(_capi().kestrel_has_onnx())


def version() -> str:
    return _capi().kestrel_version().decode()


def ir(source, *, input_shapes=None) -> str:
    """The module after Kestrel's target-independent passes, as MLIR text."""
    lib = _capi()
    text, name = _source_text(source, input_shapes)
    diags = ctypes.c_void_p()
    out = lib.kestrel_print_ir(text, len(text), name.encode(), ctypes.byref(diags))
    messages = _take_string(lib, diags.value)
    if not out:
        raise CompileError(messages or "compilation failed")
    return _take_string(lib, out)


def print_ir(source, *, input_shapes=None) -> None:
    print(ir(source, input_shapes=input_shapes), end="")


_TORCH_DTYPES = {"float32": "f32", "float16": "f16", "bfloat16": "bf16",
                 "int64": "i64", "int32": "i32", "int8": "i8", "bool": "i1"}
_TYPESTRS = {"<f4": "f32", "<f2": "f16", "<i8": "i64", "<i4": "i32",
             "|i1": "i8", "|b1": "i1"}


def _device_view(x):
    """(device pointer, shape, kestrel dtype, contiguous) of a CUDA tensor:
    torch tensors directly, anything else through __cuda_array_interface__
    (CuPy, Numba, ...)."""
    if hasattr(x, "data_ptr") and getattr(x, "is_cuda", False):
        dtype = _TORCH_DTYPES.get(str(x.dtype).removeprefix("torch."))
        return x.data_ptr(), tuple(x.shape), dtype, x.is_contiguous()
    cai = getattr(x, "__cuda_array_interface__", None)
    if cai is None:
        raise TypeError(f"{type(x).__name__} is not a CUDA tensor (expected "
                        "a torch CUDA tensor or an object with "
                        "__cuda_array_interface__)")
    return (cai["data"][0], tuple(cai["shape"]), _TYPESTRS.get(cai["typestr"]),
            cai.get("strides") is None)


def _empty_like_framework(x, shape, dtype: str):
    """A new contiguous CUDA tensor of the same framework and device as x."""
    if hasattr(x, "data_ptr"):
        import torch
        tdtype = {v: k for k, v in _TORCH_DTYPES.items()}[dtype]
        return torch.empty(shape, dtype=getattr(torch, tdtype), device=x.device)
    import cupy
    return cupy.empty(shape, dtype={"f32": "float32", "f16": "float16",
                                    "i64": "int64", "i32": "int32",
                                    "i8": "int8", "i1": "bool"}[dtype])


_runtime = None


def _runtime_lib():
    global _runtime
    if _runtime is not None:
        return _runtime
    lib = _open_library("libKestrelRuntimeC.so", "KESTREL_RUNTIME_LIB",
                        ["build", "build-rt"],
                        "build the runtime with the CUDA toolkit")
    lib.kestrel_cuda_load.restype = ctypes.c_void_p
    lib.kestrel_cuda_load.argtypes = [ctypes.c_char_p, ctypes.c_int,
                                      ctypes.POINTER(ctypes.c_void_p)]
    lib.kestrel_cuda_run.restype = ctypes.c_int
    lib.kestrel_cuda_run.argtypes = [ctypes.c_void_p, ctypes.c_char_p,
                                     ctypes.POINTER(ctypes.c_uint64),
                                     ctypes.c_size_t,
                                     ctypes.POINTER(ctypes.c_void_p)]
    lib.kestrel_cuda_unload.argtypes = [ctypes.c_void_p]
    lib.kestrel_runtime_free.argtypes = [ctypes.c_void_p]
    _runtime = lib
    return lib


class CudaModule:
    """PTX + launch manifest for a CUDA target. On a machine with a GPU and
    the runtime library, `mod.f(*tensors)` runs function `f` on torch or
    CuPy CUDA tensors and returns new output tensors of the same framework;
    elsewhere, the files can be run with kestrel-run."""

    def __init__(self, ptx, manifest, device: int = 0):
        self.ptx, self.manifest = Path(ptx), Path(manifest)
        from kestrel.runtime import Manifest
        self.info = Manifest.parse(self.manifest.read_text(errors="replace"),
                                   source=str(self.manifest))
        if self.info.kind != "cuda":
            raise ValueError(f"{self.manifest}: manifest is for "
                             f"{self.info.kind}, not cuda")
        if self.info.weights:
            weights = self.manifest.parent / self.info.weights
            if not weights.is_file():
                raise FileNotFoundError(errno.ENOENT, "weights file named by "
                                        f"{self.manifest} not found",
                                        str(weights))
            size = weights.stat().st_size
            if size != self.info.weights_bytes:
                raise ValueError(f"{weights} has {size} bytes, but "
                                 f"{self.manifest} expects "
                                 f"{self.info.weights_bytes} (the weights do "
                                 "not belong to this manifest)")
        self.device = device
        self._handle = None

    def __repr__(self):
        return f"CudaModule(ptx={str(self.ptx)!r}, manifest={str(self.manifest)!r})"

    def __getattr__(self, name):
        if name.startswith("_") or name not in self.__dict__.get("info").functions:
            raise AttributeError(name)
        return lambda *tensors: self.call(name, *tensors)

    def _load(self):
        if self._handle is None:
            lib = _runtime_lib()
            err = ctypes.c_void_p()
            handle = lib.kestrel_cuda_load(str(self.manifest).encode(),
                                           self.device, ctypes.byref(err))
            if not handle:
                message = ctypes.string_at(err.value).decode()
                lib.kestrel_runtime_free(err.value)
                raise RuntimeError(message)
            self._handle = handle
        return self._handle

    def call(self, name, *inputs):
        fn = self.info.functions[name]
        if len(inputs) != len(fn.inputs):
            raise TypeError(f"{name} takes {len(fn.inputs)} inputs, got {len(inputs)}")
        pointers = []
        for i, (x, spec) in enumerate(zip(inputs, fn.inputs)):
            ptr, shape, dtype, contiguous = _device_view(x)
            what = f"{name}: argument {i}"
            if dtype != spec.dtype:
                raise TypeError(f"{what} is {dtype or 'of an unsupported dtype'}"
                                f", expected {spec.dtype}")
            if shape != spec.shape:
                raise ValueError(f"{what} has shape {shape}, expected "
                                 f"{spec.shape}")
            if not all(shape):
                raise ValueError(f"{what} is empty (shape {shape})")
            if not contiguous:
                raise ValueError(f"{what} is strided, expected a contiguous "
                                 "tensor")
            pointers.append(ptr)
        outputs = [_empty_like_framework(inputs[0], s.shape, s.dtype)
                   for s in fn.outputs]
        pointers += [_device_view(y)[0] for y in outputs]
        lib = _runtime_lib()
        array = (ctypes.c_uint64 * len(pointers))(*pointers)
        err = ctypes.c_void_p()
        if lib.kestrel_cuda_run(self._load(), name.encode(), array,
                                len(pointers), ctypes.byref(err)) != 0:
            message = ctypes.string_at(err.value).decode()
            lib.kestrel_runtime_free(err.value)
            raise RuntimeError(message)
        return tuple(outputs)

    def __del__(self):
        if self.__dict__.get("_handle"):
            _runtime_lib().kestrel_cuda_unload(self._handle)


def load_cuda(manifest, device: int = 0) -> CudaModule:
    """Loads PTX + manifest written by `kestrelc --target=cuda:...`."""
    manifest = Path(manifest)
    from kestrel.runtime import Manifest
    info = Manifest.parse(manifest.read_text(errors="replace"),
                          source=str(manifest))
    if not info.ptx:
        raise ValueError(f"{manifest} names no PTX file ('ptx FILE' line)")
    ptx = manifest.parent / info.ptx
    return CudaModule(ptx, manifest, device)


_workdirs: list[str] = []
atexit.register(lambda: [shutil.rmtree(d, ignore_errors=True) for d in _workdirs])


def compile(source, example_inputs=None, target: str = "cpu", *,
            output: str | os.PathLike | None = None,
            emit: str | None = None, opt_level: int = 3,
            reference_lowering: bool = False, cuda_path: str | None = None,
            extra_passes: str | None = None, input_shapes=None,
            precision: str | None = None, report=False,
            exporter: str = "auto"):
    """Compiles a model given as a path (.mlir or .onnx), MLIR text, an
    onnx.ModelProto or a torch.nn.Module.

    A torch.nn.Module needs `example_inputs` (a tensor or a tuple of
    tensors, the shapes the compiled function takes); it is exported to
    ONNX (`exporter`: "auto" tries torch.onnx's dynamo exporter when
    onnxscript is installed and falls back to the TorchScript one,
    "dynamo" or "torchscript" use only that one) and compiled; the result
    is a `CompiledModule` called with torch tensors (kestrel.torch).
    `input_shapes` fixes symbolic ONNX input dimensions, as kestrelc's
    --input-shape: {"x": (1, 128)} or ["x=1x128"].
    target "cpu" returns a `CpuLibrary` whose functions take and return
    NumPy arrays; "cuda:sm_90a" (or sm_80, ...) returns a `CudaModule`.
    With `emit` other than the target's default, returns the output path.
    `precision` ("f32", "tf32", "bf16", "f16"; cuda only) is kestrelc's
    --precision: what f32 matmuls and attention run in (tf32: matmuls
    only; attention keeps f32).
    `report=True` keeps kestrelc --report's text (docs/cli.md) in the
    result's `.report`; a path writes it there too.
    Raises `CompileError` with the compiler's diagnostics (and `.report`
    when a report was asked for).
    """
    if isinstance(example_inputs, str) and example_inputs.startswith(
            ("cpu", "cuda:")):
        # compile(source, "cuda:sm_90a"): the former positional target.
        target, example_inputs = example_inputs, None
    from kestrel import frontend_torch as _torch
    if _torch.is_module(source):
        return _torch.compile_module(
            source, example_inputs, target=target, exporter=exporter,
            report=report, opt_level=opt_level,
            reference_lowering=reference_lowering, cuda_path=cuda_path,
            extra_passes=extra_passes, precision=precision)
    if example_inputs is not None:
        raise TypeError("example_inputs are for a torch.nn.Module; got a "
                        f"{type(source).__name__} (use input_shapes for "
                        "symbolic ONNX dimensions)")
    lib = _capi()
    text, name = _source_text(source, input_shapes)
    cuda = target.startswith("cuda:")
    default_emit = "ptx" if cuda else "so"
    workdir = tempfile.mkdtemp(prefix="kestrel-")
    _workdirs.append(workdir)
    if output is None:
        suffix = {"so": ".so", "ptx": ".ptx", "obj": ".o", "llvm": ".ll",
                  "mlir": ".mlir"}.get(emit or default_emit, ".out")
        output = Path(workdir) / ("module" + suffix)
    output = Path(output)
    report_path = (Path(report) if isinstance(report, (str, os.PathLike))
                   else Path(workdir) / "report.txt" if report else None)
    opts = _Options(target.encode(), emit.encode() if emit else None, opt_level,
                    int(reference_lowering),
                    cuda_path.encode() if cuda_path else None,
                    extra_passes.encode() if extra_passes else None,
                    precision.encode() if precision else None,
                    str(report_path).encode() if report_path else None)
    diags = ctypes.c_void_p()
    rc = lib.kestrel_compile(text, len(text), name.encode(), ctypes.byref(opts),
                             str(output).encode(), ctypes.byref(diags))
    messages = _take_string(lib, diags.value)
    report_text = (report_path.read_text()
                   if report_path and report_path.exists() else None)
    if rc != 0:
        error = CompileError(messages or "compilation failed")
        error.report = report_text
        raise error
    if (emit or default_emit) != default_emit:
        result = output
    elif cuda:
        result = CudaModule(output, output.with_suffix(".manifest"))
    else:
        result = CpuLibrary(output)
    if report_text is not None and not isinstance(result, Path):
        result.report = report_text
    return result
