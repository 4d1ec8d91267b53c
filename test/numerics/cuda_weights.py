"""An independent reader of the weights sidecar of CUDA manifests
(docs/runtime.md, "Constant data"), written from the format's description
and not from lib/Runtime: the tests check kestrelc's `weights` and `const`
lines, and the bytes they point at, with it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# Device storage of each manifest dtype: bf16 as its 16-bit patterns, i1 as
# one byte per element.
NUMPY = {"f32": np.float32, "f16": np.float16, "bf16": np.uint16,
         "i64": np.int64, "i32": np.int32, "i8": np.int8, "i1": np.bool_}


def fnv1a64(data: bytes) -> int:
    h = 0xCBF29CE484222325
    for byte in data:
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


@dataclass
class Const:
    id: int
    dtype: str
    shape: tuple
    offset: int
    nbytes: int


@dataclass
class Fn:
    name: str
    consts: list = field(default_factory=list)
    launches: list = field(default_factory=list)  # the launch lines' words
    copies: list = field(default_factory=list)    # (src, dst, bytes)


@dataclass
class CudaOutput:
    manifest: Path
    weights_file: str | None = None
    weights_bytes: int = 0
    checksum: int = 0
    functions: dict = field(default_factory=dict)

    @property
    def weights_path(self) -> Path:
        return self.manifest.parent / self.weights_file

    def weights(self) -> bytes:
        return self.weights_path.read_bytes()

    def array(self, c: Const) -> np.ndarray:
        """The constant's value, read from the weights file."""
        data = self.weights()[c.offset:c.offset + c.nbytes]
        return np.frombuffer(data, NUMPY[c.dtype]).reshape(c.shape)


def read(manifest: Path) -> CudaOutput:
    out = CudaOutput(Path(manifest))
    fn = None
    for line in Path(manifest).read_text().splitlines():
        w = line.split()
        if not w:
            continue
        if w[0] == "weights":
            assert fn is None, "weights line inside a function"
            out.weights_file, out.weights_bytes = w[1], int(w[2])
            assert w[3].startswith("0x")
            out.checksum = int(w[3], 16)
        elif w[0] == "function":
            fn = out.functions[w[1]] = Fn(w[1])
        elif w[0] == "const":
            shape = () if w[3] == "scalar" else tuple(int(d) for d in w[3].split("x"))
            fn.consts.append(Const(int(w[1]), w[2], shape, int(w[4]), int(w[5])))
        elif w[0] == "launch":
            fn.launches.append(w)
        elif w[0] == "copy":
            fn.copies.append(tuple(int(x) for x in w[1:4]))
        elif w[0] == "end":
            fn = None
    return out


def check_layout(out: CudaOutput) -> list[Const]:
    """Checks what the format promises of the weights file as a whole: its
    size and checksum, every constant 64-byte aligned, sized by its dtype and
    shape, inside the file, and distinct constants not overlapping. Returns
    the distinct constants."""
    data = out.weights()
    assert len(data) == out.weights_bytes
    assert fnv1a64(data) == out.checksum
    distinct = {}
    for fn in out.functions.values():
        for c in fn.consts:
            assert c.offset % 64 == 0, c
            assert c.nbytes == int(np.prod(c.shape, dtype=np.int64)) * \
                np.dtype(NUMPY[c.dtype]).itemsize, c
            assert c.offset + c.nbytes <= len(data), c
            prev = distinct.setdefault(c.offset, c)
            assert (prev.dtype, prev.shape, prev.nbytes) == (c.dtype, c.shape, c.nbytes)
    ranges = sorted((c.offset, c.offset + c.nbytes) for c in distinct.values())
    for (_, end), (start, _) in zip(ranges, ranges[1:]):
        assert end <= start, ranges
    return list(distinct.values())
