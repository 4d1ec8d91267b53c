"""Calling shared libraries made by `kestrelc --target=cpu --emit=so`.

A library exports `void f(T *in..., T *out...)` per function and a
NUL-terminated `kestrel_manifest` string describing them (format in
docs/runtime.md). `CpuLibrary` reads the manifest and calls functions with
NumPy arrays.
"""

from __future__ import annotations

import ctypes
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

    @staticmethod
    def parse(text: str) -> "Manifest":
        lines = [ln.split() for ln in text.splitlines() if ln.strip()]
        if not lines or lines[0][:2] != ["kestrel-manifest", "1"]:
            raise ValueError("not a kestrel manifest (version 1)")
        m = Manifest(kind=lines[0][2], functions={})
        fn = None
        for words in lines[1:]:
            key = words[0]
            if key == "target":
                m.target = words[1]
            elif key == "ptx":
                m.ptx = words[1]
            elif key == "weights":
                m.weights = words[1]
            elif key == "function":
                fn = Function(words[1])
                m.functions[fn.name] = fn
            elif key in ("in", "out"):
                shape = () if words[2] == "scalar" else tuple(
                    int(d) for d in words[2].split("x"))
                spec = TensorSpec(words[1], shape)
                (fn.inputs if key == "in" else fn.outputs).append(spec)
            elif key == "end":
                fn = None
        return m


class CpuLibrary:
    """A compiled CPU library; `lib.f(*inputs)` returns the outputs of `f`."""

    def __init__(self, path: str):
        self.path = str(path)
        self._lib = ctypes.CDLL(self.path)
        try:
            # A char array, not a char pointer: read it from its address.
            first = ctypes.c_char.in_dll(self._lib, "kestrel_manifest")
            text = ctypes.string_at(ctypes.addressof(first))
        except ValueError as e:
            raise ValueError(f"{path} was not built by kestrelc") from e
        self.manifest = Manifest.parse(text.decode())
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
        args = []
        for i, (x, spec) in enumerate(zip(inputs, fn.inputs)):
            x = np.asarray(x)
            if x.shape != spec.shape:
                raise ValueError(f"{name}: input {i} has shape {x.shape}, "
                                 f"expected {spec.shape}")
            args.append(np.ascontiguousarray(x, dtype=spec.numpy_dtype))
        outputs = [np.empty(s.shape, s.numpy_dtype) for s in fn.outputs]
        c_fn = getattr(self._lib, name)
        c_fn.restype = None
        c_fn(*[a.ctypes.data_as(ctypes.c_void_p) for a in args + outputs])
        return tuple(outputs)
