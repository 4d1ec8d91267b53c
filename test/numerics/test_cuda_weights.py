"""Constant tensors on the cuda target: kestrelc writes them to the weights
sidecar named by the manifest (docs/runtime.md, "Constant data"), and the
runtime uploads them at load. Checked with the independent reader of
cuda_weights.py against the NumPy values of the constants written in the
MLIR below, bit for bit; with the stand-in driver (test/Runtime/MockCuda,
host memory) the uploaded bytes are also read back through kestrel-run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest import REPO, to_bf16_bits  # noqa: E402
import cuda_weights  # noqa: E402
from kestrel.compiler import CompileError, kestrelc  # noqa: E402

BUILD = Path(os.environ.get("KESTREL_BUILD_DIR", REPO / "build"))

W = np.array([[0.5, -1.25, 3.0, 1.0e-3, -7.0], [2.0, 4.0, 8.0, 16.0, 32.0],
              [-0.0, 0.1, 0.2, 0.3, 1.0e30]], np.float32)
TABLES = [  # outputs of @tables, in order, as the device holds them
    W,
    np.array([[1, -2, 3], [2**31 - 1, -2**31, 0]], np.int32),
    np.array([1.5, -2.0, 65504.0, 0.099975586], np.float16),
    to_bf16_bits(np.array([1.0, -3.140625, 256.0], np.float32)),
    np.array([True, False, True, True, False]),
    np.array([2**63 - 1, -5], np.int64),
    np.array([[1, -1], [127, -128]], np.int8),
]


def _fmt(v) -> str:
    if isinstance(v, list):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    if isinstance(v, bool):
        return str(v).lower()
    return repr(v)  # ints, and floats exact enough to round back to themselves


def _lit(a: np.ndarray, mlir_type: str) -> str:
    if a.dtype == np.uint16:  # bf16 bits -> their float values
        a = (a.astype(np.uint32) << 16).view(np.float32)
    if a.dtype.kind == "f":
        a = a.astype(np.float64)
    return f"arith.constant dense<{_fmt(a.tolist())}> : {mlir_type}"


TYPES = ["tensor<3x5xf32>", "tensor<2x3xi32>", "tensor<4xf16>", "tensor<3xbf16>",
         "tensor<5xi1>", "tensor<2xi64>", "tensor<2x2xi8>"]

MLIR = f"""
func.func @add(%x: tensor<3x5xf32>) -> tensor<3x5xf32> {{
  %w = {_lit(W, TYPES[0])}
  %e = tensor.empty() : tensor<3x5xf32>
  %y = linalg.add ins(%x, %w : tensor<3x5xf32>, tensor<3x5xf32>)
                  outs(%e : tensor<3x5xf32>) -> tensor<3x5xf32>
  return %y : tensor<3x5xf32>
}}
func.func @tables(%x: tensor<3x5xf32>) -> ({", ".join(TYPES)}) {{
""" + "".join(f"  %c{i} = {_lit(a, t)}\n" for i, (a, t) in enumerate(zip(TABLES, TYPES))) + \
    f"  return {', '.join(f'%c{i}' for i in range(len(TYPES)))} : {', '.join(TYPES)}\n}}\n"


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    d = tmp_path_factory.mktemp("weights")
    kestrelc(MLIR, d / "m.ptx", "--target=cuda:sm_90a", "--emit=ptx")
    return cuda_weights.read(d / "m.manifest")


def test_sidecar_layout(compiled):
    assert compiled.weights_file == "m.weights"
    assert sorted(p.name for p in compiled.manifest.parent.iterdir()) == \
        ["m.manifest", "m.ptx", "m.weights"]
    distinct = cuda_weights.check_layout(compiled)
    # W appears in both functions and is stored once: 7 distinct constants.
    assert len(distinct) == len(TABLES)


def test_constants_match_numpy(compiled):
    tables = compiled.functions["tables"]
    consts = {c.id: c for c in tables.consts}
    # Each output k (buffer 1 + k) is filled by one copy from its constant.
    copied = {dst: src for src, dst, _ in tables.copies}
    assert sorted(copied) == list(range(1, 1 + len(TABLES)))
    for k, expected in enumerate(TABLES):
        c = consts[copied[1 + k]]
        got = compiled.array(c)
        assert got.shape == expected.shape and got.dtype == expected.dtype, (k, c)
        # Bit for bit, -0.0 included.
        assert got.tobytes() == expected.tobytes(), (k, got, expected)


def test_kernel_reads_the_constant_buffer(compiled):
    add = compiled.functions["add"]
    assert len(add.consts) == 1
    c = add.consts[0]
    assert compiled.array(c).tobytes() == W.tobytes()
    (launch,) = add.launches
    params = launch[launch.index("params") + 1:]
    assert f"b{c.id}" in params and "b0" in params and "b1" in params
    # Shared with @tables: one range of the file.
    assert c.offset in {t.offset for t in compiled.functions["tables"].consts}


def test_mock_driver_uploads_the_constants(compiled, tmp_path):
    mock = BUILD / "test/mock-cuda/libcuda.so.1"
    run = BUILD / "bin/kestrel-run"
    if not mock.exists() or not run.exists():
        pytest.skip("kestrel-run's CUDA mode or the stand-in driver not built")
    proc = subprocess.run(
        [str(run), str(compiled.manifest), "--function=tables", "--warmup=0",
         "--repeat=0", f"--outputs={tmp_path}"],
        env={**os.environ, "LD_LIBRARY_PATH": str(mock.parent)},
        capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    for k, expected in enumerate(TABLES):
        got = np.load(tmp_path / f"out{k}.npy")
        assert got.view(expected.dtype).tobytes() == expected.tobytes(), k


def test_no_constants_no_sidecar(tmp_path):
    kestrelc("""
func.func @twice(%x: tensor<8xf32>) -> tensor<8xf32> {
  %e = tensor.empty() : tensor<8xf32>
  %y = linalg.add ins(%x, %x : tensor<8xf32>, tensor<8xf32>)
                  outs(%e : tensor<8xf32>) -> tensor<8xf32>
  return %y : tensor<8xf32>
}""", tmp_path / "t.ptx", "--target=cuda:sm_90a")
    assert "weights" not in (tmp_path / "t.manifest").read_text()
    # No weights file, and no temporary one left behind.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.manifest", "t.ptx"]


def test_failed_weights_write_leaves_nothing(tmp_path):
    # The weights file cannot replace a directory: kestrelc must fail and
    # keep neither the PTX nor the manifest, nor a temporary file.
    (tmp_path / "m.weights").mkdir()
    with pytest.raises(CompileError, match="cannot write the weights file"):
        kestrelc(MLIR, tmp_path / "m.ptx", "--target=cuda:sm_90a")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.weights"]
    assert not any((tmp_path / "m.weights").iterdir())
