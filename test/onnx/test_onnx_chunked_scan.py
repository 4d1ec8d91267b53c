"""Mamba2's chunked SSD scan as Hugging Face's CPU path computes it
(`torch_forward` of the Mamba2 / FalconH1 / GraniteMoeHybrid mixers:
chunks of L tokens, segment sums, five einsums, the chunk states passed by
a sixth product), exported with torch.onnx (dynamo), must import as one
kestrel.gated_recurrence (lib/Frontend/Onnx/OnnxChunkedScan.cpp) and
compute what a sequential NumPy recurrence and onnxruntime compute.

The module below is written for this test in the exported form the
recognizer reads; inputs are the mixer's x [b, T, H, P], dt [b, T, H] and
B, C [b, T, G, N] (G groups of heads). Without torch the tests skip (not
counted as passing)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "python"))
from kestrel.compiler import kestrelc  # noqa: E402
from kestrel.runtime import CpuLibrary  # noqa: E402

ort = pytest.importorskip("onnxruntime")
torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional


def _segment_sums(x, mask_diagonal=-1):
    """[..., n] -> [..., n, n]: entry (i, j) is x_{j+1} + ... + x_i for
    j <= i and -inf above the diagonal (log of the decay from j to i).
    `mask_diagonal` other than -1 computes something else (the negative
    test)."""
    n = x.shape[-1]
    grid = x[..., None].expand(*x.shape, n)
    strictly_below = torch.tril(torch.ones(n, n, dtype=torch.bool),
                                diagonal=mask_diagonal)
    grid = grid.masked_fill(~strictly_below, 0)
    sums = torch.cumsum(grid, dim=-2)
    on_or_below = torch.tril(torch.ones(n, n, dtype=torch.bool), diagonal=0)
    return sums.masked_fill(~on_or_below, -torch.inf)


class ChunkedSsd(nn.Module):
    """y_t = C_t h_t + D x_t with h_t = e^{A dt_t} h_{t-1} + B_tᵀ (dt_t x_t),
    in chunks of `chunk` tokens (T padded up to a multiple)."""

    def __init__(self, heads, chunk, mask_diagonal=-1):
        super().__init__()
        g = torch.Generator().manual_seed(7)
        self.A_log = nn.Parameter(torch.rand(heads, generator=g))
        self.D = nn.Parameter(torch.rand(heads, generator=g))
        self.chunk = chunk
        self.mask_diagonal = mask_diagonal

    def forward(self, x, dt, Bm, Cm):
        b, T, H, P = x.shape
        L = self.chunk
        reps = H // Bm.shape[2]
        Bm = Bm.repeat_interleave(reps, dim=2, output_size=H)
        Cm = Cm.repeat_interleave(reps, dim=2, output_size=H)
        pad = (L - T % L) % L
        skip = self.D[:, None] * F.pad(x, (0, 0, 0, 0, 0, pad))
        x = x * dt[..., None]
        a = -torch.exp(self.A_log) * dt                         # [b, T, H]

        def chunks(t):  # pad T, then [b, c, L, ...]
            t = F.pad(t, (0, 0) * (t.dim() - 2) + (0, pad))
            return t.reshape(b, -1, L, *t.shape[2:])

        x, a, Bm, Cm = chunks(x), chunks(a), chunks(Bm), chunks(Cm)
        A = a.permute(0, 3, 1, 2)                               # [b, H, c, L]
        A_cum = torch.cumsum(A, dim=-1)
        # Within each chunk: attention-like scores with the decay.
        decay = torch.exp(_segment_sums(A, self.mask_diagonal))
        scores = torch.einsum("bclhn,bcshn->bclsh", Cm, Bm)
        y_diag = torch.einsum("bclsh,bcshp->bclhp",
                              scores * decay.permute(0, 2, 3, 4, 1), x)
        # Each chunk's own state, then the states passed between chunks.
        to_end = torch.exp(A_cum[:, :, :, -1:] - A_cum)
        own = torch.einsum("bclhn,bclhp->bchpn",
                           Bm * to_end.permute(0, 2, 3, 1)[..., None], x)
        own = torch.cat([torch.zeros_like(own[:, :1]), own], dim=1)
        between = torch.exp(_segment_sums(F.pad(A_cum[:, :, :, -1], (1, 0))))
        passed = torch.einsum("bzch,bzhpn->bchpn", between.transpose(1, 3),
                              own)[:, :-1]
        y_off = (torch.einsum("bclhn,bchpn->bclhp", Cm, passed)
                 * torch.exp(A_cum).permute(0, 2, 3, 1)[..., None])
        y = (y_diag + y_off).reshape(b, -1, H, P) + skip
        return y[:, :T]


def _reference(module, x, dt, Bm, Cm):
    """The recurrence one token at a time, float64."""
    x, dt, Bm, Cm = (np.asarray(t, np.float64) for t in (x, dt, Bm, Cm))
    A = -np.exp(module.A_log.detach().double().numpy())
    D = module.D.detach().double().numpy()
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


def _inputs(b, T, H, P, G, N, seed=1):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(b, T, H, P, generator=g),
            F.softplus(torch.randn(b, T, H, generator=g)),
            torch.randn(b, T, G, N, generator=g),
            torch.randn(b, T, G, N, generator=g))


def _export(tmp_path, module, inputs):
    path = tmp_path / "ssd.onnx"
    with torch.no_grad():
        torch.onnx.export(module, inputs, str(path),
                          input_names=["x", "dt", "B", "C"],
                          output_names=["y"], dynamo=True)
    return path


def _run(tmp_path, path, inputs):
    """Kestrel's CPU result and onnxruntime's on the same inputs."""
    arrays = [t.numpy() for t in inputs]
    so = tmp_path / "ssd.so"
    kestrelc(path, so, "--target=cpu")
    lib = CpuLibrary(so)
    ours = lib.call(next(iter(lib.manifest.functions)), *arrays)[0]
    ref = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]
                               ).run(None, dict(zip(["x", "dt", "B", "C"],
                                                    arrays)))[0]
    return ours, ref


def _count(tmp_path, path, *flags):
    mlir = tmp_path / "ssd.mlir"
    kestrelc(path, mlir, "--emit=mlir", *flags)
    text = mlir.read_text()
    return text.count("kestrel.gated_recurrence "), text


# (b, T, H, P, G, N, chunk): ragged T (padded to 3 chunks), T a multiple
# of the chunk, one chunk.
SHAPES = [(2, 20, 4, 8, 2, 8, 8), (1, 16, 2, 16, 1, 4, 8), (1, 6, 2, 4, 2, 4, 8)]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_chunked_scan_recognized(tmp_path, shape):
    b, T, H, P, G, N, L = shape
    module = ChunkedSsd(H, L).eval()
    inputs = _inputs(b, T, H, P, G, N)
    path = _export(tmp_path, module, inputs)
    n, text = _count(tmp_path, path)
    assert n == 1, text
    c = -(-T // L)
    # Scalar gate, scale 1, over the padded tokens, heads before time.
    assert "gate = scalar log_gate(" in text
    assert f": tensor<{b}x{H}x{c * L}xf32>)" in text
    assert "scale = 1.000000e+00" in text
    # None of the einsums' 5-D products is left.
    assert f"tensor<{b}x{c}x{L}x{L}x{H}xf32>" not in text
    ours, ref = _run(tmp_path, path, inputs)
    exact = _reference(module, *inputs)
    scale = max(1.0, float(np.abs(exact).max()))
    # f32 against float64, T <= 20 steps: 1e-4 of the output's magnitude
    # for both (onnxruntime's chunked einsums round differently from the
    # recurrence; each stays well inside).
    assert np.abs(ref - exact).max() <= 1e-4 * scale
    assert np.abs(ours - exact).max() <= 1e-4 * scale, \
        (np.abs(ours - exact).max(), scale)


def test_other_masks_stay_generic(tmp_path):
    """The segment sums with another mask compute something else: not a
    scan; imported node by node, still what onnxruntime computes."""
    b, T, H, P, G, N, L = SHAPES[0]
    module = ChunkedSsd(H, L, mask_diagonal=0).eval()
    inputs = _inputs(b, T, H, P, G, N)
    path = _export(tmp_path, module, inputs)
    n, _ = _count(tmp_path, path)
    assert n == 0
    ours, ref = _run(tmp_path, path, inputs)
    assert np.abs(ours - ref).max() <= 1e-5 * max(1.0, float(np.abs(ref).max()))


def test_no_recognize_keeps_the_nodes(tmp_path):
    b, T, H, P, G, N, L = SHAPES[1]
    module = ChunkedSsd(H, L).eval()
    path = _export(tmp_path, module, _inputs(b, T, H, P, G, N))
    n, text = _count(tmp_path, path, "--no-recognize")
    assert n == 0
    assert text.count("linalg.generic") > 10
