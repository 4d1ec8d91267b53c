"""Regenerates test/onnx/models/mamba2_scan.onnx: Mamba2's chunked SSD scan
as Hugging Face's CPU path computes it (`torch_forward` of the Mamba2 /
FalconH1 / GraniteMoeHybrid mixers: chunks of L tokens, segment sums, five
einsums, the chunk states passed between chunks), written for Kestrel's
tests in the exported form the importer recognizes
(lib/Frontend/Onnx/OnnxChunkedScan.cpp), exported by torch.onnx (dynamo).
Inputs: x [b, T, H, P], dt [b, T, H], B and C [b, T, G, N] (G groups of
heads); output y [b, T, H, P]. The committed model: b 1, T 20 (padded to
3 chunks of 8), H 2, P 8, G 1, N 8, seed 7. test/onnx/test_onnx_chunked_scan.py
uses ChunkedSsd for other shapes when torch is installed.

    python3 test/onnx/export_chunked_scan.py [OUT_DIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
from torch import nn

F = torch.nn.functional
SHAPE = dict(b=1, T=20, H=2, P=8, G=1, N=8, L=8)


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


def inputs(b, T, H, P, G, N, seed=1):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(b, T, H, P, generator=g),
            F.softplus(torch.randn(b, T, H, generator=g)),
            torch.randn(b, T, G, N, generator=g),
            torch.randn(b, T, G, N, generator=g))


def export(module, example, path):
    with torch.no_grad():
        torch.onnx.export(module, example, str(path),
                          input_names=["x", "dt", "B", "C"],
                          output_names=["y"], dynamo=True, external_data=False)
    return path


def main():
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else \
        Path(__file__).resolve().parent / "models"
    s = SHAPE
    module = ChunkedSsd(s["H"], s["L"]).eval()
    example = inputs(s["b"], s["T"], s["H"], s["P"], s["G"], s["N"])
    print(export(module, example, out / "mamba2_scan.onnx"))


if __name__ == "__main__":
    main()
