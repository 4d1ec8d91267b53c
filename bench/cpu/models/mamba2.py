"""Mamba2 block (RMSNorm, in_proj to z / xBC / dt, causal depthwise conv1d +
SiLU on xBC, the chunked SSD scan as Hugging Face's CPU path computes it,
silu(z) gate, out_proj, residual). The scan is test/onnx/
export_chunked_scan.py's ChunkedSsd (segment sums, five einsums, chunk
states passed between chunks), which the ONNX importer reads as one
kestrel.gated_recurrence."""

from __future__ import annotations

import sys
from pathlib import Path

import torch
from torch import nn

from common import RMSNorm

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "test/onnx"))
from export_chunked_scan import ChunkedSsd  # noqa: E402

CONFIGS = {"mamba2_d512_t256": dict(d=512, heads=16, d_state=64, chunk=64,
                                    d_conv=4, t=256)}


class Mixer(nn.Module):
    def __init__(self, d, heads, d_state, chunk, d_conv):
        super().__init__()
        inner = 2 * d
        self.heads, self.n, self.inner = heads, d_state, inner
        conv = inner + 2 * d_state
        self.in_proj = nn.Linear(d, inner + conv + heads, bias=False)
        self.conv1d = nn.Conv1d(conv, conv, d_conv, groups=conv,
                                padding=d_conv - 1, bias=True)
        self.dt_bias = nn.Parameter(torch.rand(heads) - 4.0)
        self.ssd = ChunkedSsd(heads, chunk)
        self.out_proj = nn.Linear(inner, d, bias=False)

    def forward(self, h):
        b, t, _ = h.shape
        z, xbc, dt = torch.split(self.in_proj(h),
                                 [self.inner, self.inner + 2 * self.n, self.heads],
                                 dim=-1)
        xbc = nn.functional.silu(self.conv1d(xbc.transpose(1, 2))[..., :t])
        x, bm, cm = torch.split(xbc.transpose(1, 2),
                                [self.inner, self.n, self.n], dim=-1)
        dt = nn.functional.softplus(dt + self.dt_bias)
        y = self.ssd(x.reshape(b, t, self.heads, -1), dt,
                     bm.reshape(b, t, 1, self.n), cm.reshape(b, t, 1, self.n))
        y = y.reshape(b, t, self.inner) * nn.functional.silu(z)
        return self.out_proj(y)


class Block(nn.Module):
    def __init__(self, d, heads, d_state, chunk, d_conv):
        super().__init__()
        self.norm = RMSNorm(d)
        self.mixer = Mixer(d, heads, d_state, chunk, d_conv)

    def forward(self, x):
        return x + self.mixer(self.norm(x))


def export(module, x, path):
    """torch.onnx's dynamo exporter, as Hugging Face models are exported
    today (the TorchScript exporter computes the chunk padding from run-time
    shapes, which the importer does not fold)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(module.eval(), (x,), str(path), input_names=["x"],
                          output_names=["y"], dynamo=True, external_data=False)
    return path


def build(d, heads, d_state, chunk, d_conv, t):
    torch.manual_seed(0)
    return Block(d, heads, d_state, chunk, d_conv), torch.randn(1, t, d)
