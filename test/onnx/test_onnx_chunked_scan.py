"""Mamba2's chunked SSD scan as Hugging Face's CPU path computes it
(`torch_forward` of the Mamba2 / FalconH1 / GraniteMoeHybrid mixers:
chunks of L tokens, segment sums, five einsums, the chunk states passed by
a sixth product), exported with torch.onnx (dynamo), must import as one
kestrel.gated_recurrence (lib/Frontend/Onnx/OnnxChunkedScan.cpp) and
compute what a sequential NumPy recurrence and onnxruntime compute.

The form is test/onnx/export_chunked_scan.py's ChunkedSsd (inputs x
[b, T, H, P], dt [b, T, H], B and C [b, T, G, N]); its export
test/onnx/models/mamba2_scan.onnx is committed and checked without torch;
other shapes and a near miss are exported here when torch is installed
(skipped otherwise, not counted as passing)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")
sys.path.insert(0, str(Path(__file__).resolve().parent))
from recognized_forms import (REPO, constants_as_nodes,  # noqa: E402
                              edited, emit_mlir, run_both)

try:
    import torch
    from export_chunked_scan import ChunkedSsd, export, inputs as _inputs
except ImportError:
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")
COMMITTED = REPO / "test/onnx/models/mamba2_scan.onnx"


def _reference(A, D, x, dt, Bm, Cm):
    """The recurrence one token at a time, float64 (A = -exp(A_log) < 0)."""
    x, dt, Bm, Cm, A, D = (np.asarray(t, np.float64)
                           for t in (x, dt, Bm, Cm, A, D))
    b, T, H, P = x.shape
    reps = H // Bm.shape[2]
    y = np.zeros_like(x)
    for n in range(b):
        for h in range(H):
            g = h // reps
            state = np.zeros((Bm.shape[3], P))
            for t in range(T):
                state = (np.exp(A[h] * dt[n, t, h]) * state
                         + np.outer(Bm[n, t, g], dt[n, t, h] * x[n, t, h]))
                y[n, t, h] = Cm[n, t, g] @ state + D[h] * x[n, t, h]
    return y


def _export(tmp_path, module, example):
    return export(module, example, tmp_path / "ssd.onnx")


def _params(module):
    return -np.exp(module.A_log.detach().numpy()), module.D.detach().numpy()


def _run(tmp_path, path, arrays):
    """Kestrel's CPU result and onnxruntime's on the same inputs."""
    ours, ref = run_both(tmp_path, path,
                         dict(zip(["x", "dt", "B", "C"], arrays)))
    return ours[0], ref[0]


def _count(tmp_path, path, *flags):
    text = emit_mlir(tmp_path, path, *flags)
    return text.count("kestrel.gated_recurrence "), text


# (b, T, H, P, G, N, chunk): ragged T (padded to 3 chunks), T a multiple
# of the chunk, one chunk.
SHAPES = [(2, 20, 4, 8, 2, 8, 8), (1, 16, 2, 16, 1, 4, 8), (1, 6, 2, 4, 2, 4, 8)]


def _check(tmp_path, path, shape, A, D, arrays):
    b, T, H, P, G, N, L = shape
    n, text = _count(tmp_path, path)
    assert n == 1, text
    c = -(-T // L)
    # Scalar gate, scale 1, over the padded tokens, heads before time.
    assert "gate = scalar log_gate(" in text
    assert f": tensor<{b}x{H}x{c * L}xf32>)" in text
    assert "scale = 1.000000e+00" in text
    # None of the einsums' 5-D products is left.
    assert f"tensor<{b}x{c}x{L}x{L}x{H}xf32>" not in text
    ours, ref = _run(tmp_path, path, arrays)
    exact = _reference(A, D, *arrays)
    scale = max(1.0, float(np.abs(exact).max()))
    # f32 against float64, T <= 20 steps: 1e-4 of the output's magnitude
    # for both (onnxruntime's chunked einsums round differently from the
    # recurrence; each stays well inside).
    assert np.abs(ref - exact).max() <= 1e-4 * scale
    assert np.abs(ours - exact).max() <= 1e-4 * scale, \
        (np.abs(ours - exact).max(), scale)


@pytest.mark.parametrize("constants", ["initializers", "nodes"])
def test_committed_model(tmp_path, constants):
    """test/onnx/models/mamba2_scan.onnx (export_chunked_scan.py's SHAPE):
    the reference reads A and D from the initializers the exporter folded
    them into (-exp(A_log) as `neg`, D[:, None] as `unsqueeze`). Also with
    every constant as a Constant node (TorchScript's way)."""
    model = onnx.load(str(COMMITTED))
    init = {t.name: onnx.numpy_helper.to_array(t) for t in model.graph.initializer}
    A, D = init["neg"], init["unsqueeze"][:, 0]
    rng = np.random.default_rng(4)
    b, T, H, P, G, N, L = 1, 20, 2, 8, 1, 8, 8
    arrays = [rng.standard_normal((b, T, H, P)).astype(np.float32),
              np.log1p(np.exp(rng.standard_normal((b, T, H)))).astype(np.float32),
              rng.standard_normal((b, T, G, N)).astype(np.float32),
              rng.standard_normal((b, T, G, N)).astype(np.float32)]
    path = (COMMITTED if constants == "initializers"
            else edited(tmp_path, COMMITTED, constants_as_nodes))
    _check(tmp_path, path, (b, T, H, P, G, N, L), A, D, arrays)


@needs_torch
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_exported_shapes(tmp_path, shape):
    b, T, H, P, G, N, L = shape
    module = ChunkedSsd(H, L).eval()
    example = _inputs(b, T, H, P, G, N)
    path = _export(tmp_path, module, example)
    _check(tmp_path, path, shape, *_params(module), [t.numpy() for t in example])


@needs_torch
def test_other_masks_stay_generic(tmp_path):
    """The segment sums with another mask compute something else: not a
    scan; imported node by node, still what onnxruntime computes."""
    b, T, H, P, G, N, L = SHAPES[0]
    module = ChunkedSsd(H, L, mask_diagonal=0).eval()
    inputs = _inputs(b, T, H, P, G, N)
    path = _export(tmp_path, module, inputs)
    n, _ = _count(tmp_path, path)
    assert n == 0
    ours, ref = _run(tmp_path, path, [t.numpy() for t in inputs])
    assert np.abs(ours - ref).max() <= 1e-5 * max(1.0, float(np.abs(ref).max()))


def test_no_recognize_keeps_the_nodes(tmp_path):
    n, text = _count(tmp_path, COMMITTED, "--no-recognize")
    assert n == 0
    assert text.count("linalg.generic") > 10
