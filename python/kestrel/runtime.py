"""Calling shared libraries made by `kestrelc --target=cpu --emit=so`.

A library exports `void f(T *in..., T *out...)` per function and a
NUL-terminated `kestrel_manifest` string describing them (format in
docs/runtime.md). `CpuLibrary` reads the manifest and calls functions with
NumPy arrays.
"""

from __future__ import annotations

import ctypes
import os
import struct
from dataclasses import dataclass, field

import numpy as np

_DTYPES = {
    "f32": np.float32,
    "f16": np.float16,
    "bf16": np.uint16,  # raw bits: NumPy has no bfloat16
    "i64": np.int64,
    "i32": np.int32,
    "i8": np.int8,
    "i1": np.bool_,
}


@dataclass
class TensorSpec:
    dtype: str
    shape: tuple[int, ...]

    @property
    def numpy_dtype(self):
        return _DTYPES[self.dtype]


@dataclass
class Function:
    name: str
    inputs: list[TensorSpec] = field(default_factory=list)
    outputs: list[TensorSpec] = field(default_factory=list)


@dataclass
class Manifest:
    kind: str
    functions: dict[str, Function]
    target: str = ""
    ptx: str = ""
    weights: str = ""  # cuda: the weights sidecar, relative to the manifest
    weights_bytes: int = 0

    @staticmethod
    def parse(text: str, source: str = "manifest") -> "Manifest":
        """Parses manifest text; raises ValueError naming `source` and the
        line for anything the runtimes would misread (docs/runtime.md)."""
        lines = [(n, ln.split()) for n, ln in enumerate(text.splitlines(), 1)
                 if ln.strip()]
        if not lines or lines[0][1][:2] != ["kestrel-manifest", "1"] \
                or len(lines[0][1]) < 3:
            raise ValueError(f"{source}: not a kestrel manifest (version 1)")
        m = Manifest(kind=lines[0][1][2], functions={})
        fn, declared = None, (0, 0)

        def fail(n, why):
            raise ValueError(f"{source}: line {n}: {why}")

        for n, words in lines[1:]:
            key = words[0]
            if key in ("target", "ptx") and len(words) == 2:
                setattr(m, key, words[1])
            elif key == "weights":
                if len(words) != 4 or not words[2].isdigit():
                    fail(n, "expected 'weights FILE BYTES 0xFNV1A64'")
                m.weights, m.weights_bytes = words[1], int(words[2])
            elif key == "function":
                if fn is not None:
                    fail(n, f"function '{fn.name}' has no 'end'")
                if len(words) != 4 or not (words[2].isdigit()
                                           and words[3].isdigit()):
                    fail(n, "expected 'function NAME NUM_IN NUM_OUT'")
                if words[1] in m.functions:
                    fail(n, f"a second function '{words[1]}'")
                fn = Function(words[1])
                declared = (int(words[2]), int(words[3]))
                m.functions[fn.name] = fn
            elif fn is None:
                fail(n, f"'{key}' outside a function")
            elif key in ("in", "out"):
                if len(words) != 3 or words[1] not in _DTYPES:
                    fail(n, f"expected '{key} DTYPE DIMxDIM...' with DTYPE one "
                            f"of {', '.join(_DTYPES)}")
                try:
                    shape = () if words[2] == "scalar" else tuple(
                        int(d) for d in words[2].split("x"))
                except ValueError:
                    shape = (-1,)
                if any(d < 0 for d in shape):
                    fail(n, f"bad shape '{words[2]}'")
                spec = TensorSpec(words[1], shape)
                (fn.inputs if key == "in" else fn.outputs).append(spec)
            elif key == "end":
                if (len(fn.inputs), len(fn.outputs)) != declared:
                    fail(n, f"function '{fn.name}' declares {declared[0]} "
                            f"inputs and {declared[1]} outputs but lists "
                            f"{len(fn.inputs)} and {len(fn.outputs)}")
                fn = None
        if fn is not None:
            raise ValueError(f"{source}: ends inside function '{fn.name}'")
        return m


def check_shared_object(path) -> None:
    """Raises OSError unless `path` is a 64-bit ELF shared object whose
    header tables and loaded segments lie inside the file. dlopen maps the
    segments from the file: a truncated library (interrupted copy, full
    disk) would kill the interpreter with SIGBUS on first touch."""
    path = str(path)
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size

        def read(offset, n):
            f.seek(offset)
            data = f.read(n)
            return data if len(data) == n else None

        why = _elf_problem(size, read)
    if why:
        raise OSError(f"{path}: truncated or not a shared object ({why})")


def _elf_problem(size, read) -> str:
    """The reason the ELF image of `size` bytes is not loadable, or ""."""
    def beyond(what, offset, n):
        return (f"{what} at bytes [{offset}, +{n}) beyond the file's "
                f"{size} bytes")

    if size < 64:
        return f"a file of {size} bytes, shorter than an ELF header"
    eh = read(0, 64)
    if eh[:4] != b"\x7fELF":
        return "no ELF magic"
    if eh[4] != 2 or eh[5] != 1:
        return "not a 64-bit little-endian ELF file"
    (e_type, _, _, _, phoff, shoff, _, _, phentsize, phnum, shentsize,
     shnum, _) = struct.unpack_from("<HHIQQQIHHHHHH", eh, 16)
    if e_type != 3:  # ET_DYN
        return f"ELF type {e_type}, not a shared object"
    if phnum == 0 or phentsize != 56:
        return "no usable program header table"
    if phoff + phnum * 56 > size:
        return beyond("program header table", phoff, phnum * 56)
    for i in range(phnum):
        p_type, _, p_offset, _, _, p_filesz, _, _ = struct.unpack(
            "<IIQQQQQQ", read(phoff + i * 56, 56))
        if p_type in (1, 2) and p_offset + p_filesz > size:  # LOAD, DYNAMIC
            return beyond("loadable segment" if p_type == 1
                          else "dynamic segment", p_offset, p_filesz)
    if shoff:
        count = max(shnum, 1)
        if shentsize != 64:
            return "no usable section header table"
        if shoff + count * 64 > size:
            return beyond("section header table", shoff, count * 64)
        for i in range(count):
            _, sh_type, _, _, sh_offset, sh_size, _, _, _, _ = struct.unpack(
                "<IIQQQQIIQQ", read(shoff + i * 64, 64))
            if sh_type not in (0, 8) and sh_offset + sh_size > size:
                return beyond("section", sh_offset, sh_size)
    return ""


def _argument(name: str, i: int, x, spec: TensorSpec) -> np.ndarray:
    """Argument `i` of `name` as the contiguous array the native function
    reads, or TypeError / ValueError naming it: the native code trusts the
    manifest's dtype and shape, so a mismatch would read the wrong bits or
    past the buffer."""
    what = f"{name}: argument {i}"
    expected = np.dtype(spec.numpy_dtype)
    if not isinstance(x, np.ndarray):
        if spec.dtype == "bf16":
            raise TypeError(f"{what} is a {type(x).__name__}, expected a bf16 "
                            "array (uint16 bit patterns or ml_dtypes.bfloat16)")
        try:
            x = np.asarray(x, dtype=expected)
        except (TypeError, ValueError) as e:
            raise TypeError(f"{what} ({type(x).__name__}) does not convert to "
                            f"{spec.dtype}: {e}") from e
    if spec.dtype == "bf16":
        if x.dtype.name == "bfloat16" and x.dtype.itemsize == 2:
            x = x.view(np.uint16)
        elif x.dtype != np.uint16:
            raise TypeError(f"{what} is {x.dtype}, expected bf16: pass the bit "
                            "patterns as a uint16 array (or an "
                            "ml_dtypes.bfloat16 array); other dtypes would be "
                            "reinterpreted, not converted")
    elif x.dtype != expected and not np.can_cast(x.dtype, expected, "safe"):
        raise TypeError(f"{what} is {x.dtype}, expected {spec.dtype} "
                        f"({expected}); convert it explicitly, e.g. "
                        f"x.astype(np.{expected})")
    if x.shape != spec.shape:
        raise ValueError(f"{what} has shape {x.shape}, expected {spec.shape}")
    if x.size == 0:
        raise ValueError(f"{what} is empty (shape {x.shape})")
    # Views and transposes are copied into C order here (the native code
    # reads a dense row-major buffer); CudaModule.call refuses them instead,
    # having no host copy to make.
    return np.ascontiguousarray(x, dtype=expected)


class CpuLibrary:
    """A compiled CPU library; `lib.f(*inputs)` returns the outputs of `f`."""

    def __init__(self, path: str):
        self.path = str(path)
        check_shared_object(self.path)
        self._lib = ctypes.CDLL(os.path.abspath(self.path))
        try:
            # A char array, not a char pointer: read it from its address.
            first = ctypes.c_char.in_dll(self._lib, "kestrel_manifest")
            text = ctypes.string_at(ctypes.addressof(first))
        except ValueError as e:
            raise ValueError(f"{path} was not built by kestrelc") from e
        self.manifest = Manifest.parse(text.decode(errors="replace"),
                                       source=self.path)
        if self.manifest.kind != "cpu":
            raise ValueError(f"{path}: manifest is for {self.manifest.kind}")

    def __getattr__(self, name: str):
        if name.startswith("_") or name not in self.manifest.functions:
            raise AttributeError(name)
        return lambda *args: self.call(name, *args)

    def call(self, name: str, *inputs: np.ndarray) -> tuple[np.ndarray, ...]:
        fn = self.manifest.functions[name]
        if len(inputs) != len(fn.inputs):
            raise TypeError(f"{name} takes {len(fn.inputs)} inputs, "
                            f"got {len(inputs)}")
        args = [_argument(name, i, x, spec)
                for i, (x, spec) in enumerate(zip(inputs, fn.inputs))]
        outputs = [np.empty(s.shape, s.numpy_dtype) for s in fn.outputs]
        c_fn = getattr(self._lib, name)
        c_fn.restype = None
        c_fn(*[a.ctypes.data_as(ctypes.c_void_p) for a in args + outputs])
        return tuple(outputs)
