"""Whole ONNX graphs imported by kestrelc against onnxruntime on the same
inputs (tolerance 1e-5 absolute, f32)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "python"))
from kestrel.compiler import kestrelc  # noqa: E402
from kestrel.runtime import CpuLibrary  # noqa: E402

ort = pytest.importorskip("onnxruntime")


def test_decomposed_attention_matches_onnxruntime(tmp_path):
    subprocess.run([sys.executable, str(REPO / "test/onnx/make_models.py"),
                    str(tmp_path)], check=True)
    model = tmp_path / "attention.onnx"
    kestrelc(model, tmp_path / "a.so", "--target=cpu")
    lib = CpuLibrary(tmp_path / "a.so")
    rng = np.random.default_rng(0)
    q, k, v = (rng.uniform(-1, 1, (1, 2, 8, 4)).astype(np.float32) for _ in range(3))
    (ours,) = lib.attention(q, k, v)
    (ref,) = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"]
                                  ).run(None, {"q": q, "k": k, "v": v})
    assert np.abs(ours - ref).max() <= 1e-5


def test_block_with_shape_computations_matches_onnxruntime(tmp_path):
    subprocess.run([sys.executable, str(REPO / "test/onnx/make_models.py"),
                    str(tmp_path)], check=True)
    model = tmp_path / "block.onnx"
    kestrelc(model, tmp_path / "b.so", "--target=cpu")
    lib = CpuLibrary(tmp_path / "b.so")
    x = np.random.default_rng(1).uniform(-1, 1, (2, 6, 8)).astype(np.float32)
    ours = lib.block(x)
    ref = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"]
                               ).run(None, {"x": x})
    assert len(ours) == len(ref) == 3
    for o, r in zip(ours, ref):
        assert o.shape == r.shape and o.dtype == r.dtype
    assert np.abs(ours[0] - ref[0]).max() <= 1e-5
    assert np.abs(ours[1] - ref[1]).max() <= 1e-5
    np.testing.assert_array_equal(ours[2], ref[2])
