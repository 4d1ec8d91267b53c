"""Regenerates test/onnx/models/mamba_block.onnx: one Mamba(1)-style block
(RMSNorm, in_proj to x and z, causal depthwise conv1d with bias, SiLU, x_proj
to dt/B/C, dt_proj + softplus, the selective scan with A = -exp(A_log) and the
D skip, gating by silu(z), out_proj, residual) with random weights (seed 0),
d_model 32, d_inner 64, d_state 8, d_conv 4, dt_rank 4, batch 1, T 8,
exported by PyTorch's TorchScript exporter (opset 17).

The conv is written as in the reference Mamba code, nn.Conv1d(groups=C,
padding=K-1) followed by [..., :T]: kestrelc recognizes Slice(Conv) (+ SiLU)
into kestrel.causal_conv1d. The selective scan is the sequential reference
(a Python loop over time, which the exporter unrolls into T steps of
elementwise ops), which kestrel-recognize re-rolls into one
kestrel.selective_scan. Needs torch; CI does not have it, so
the generated model is committed.

    python3 test/onnx/export_mamba_block.py [OUT_DIR]
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import torch
from torch import nn

D_MODEL, D_INNER, D_STATE, D_CONV, DT_RANK, T = 32, 64, 8, 4, 4, 8


class RMSNorm(nn.Module):
    def __init__(self, d: int, eps: float = 1e-5):
        super().__init__()
        self.weight = nn.Parameter(1 + 0.1 * torch.randn(d))
        self.eps = eps

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


class MambaBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm = RMSNorm(D_MODEL)
        self.in_proj = nn.Linear(D_MODEL, 2 * D_INNER, bias=False)
        self.conv1d = nn.Conv1d(D_INNER, D_INNER, D_CONV, groups=D_INNER,
                                padding=D_CONV - 1, bias=True)
        self.x_proj = nn.Linear(D_INNER, DT_RANK + 2 * D_STATE, bias=False)
        self.dt_proj = nn.Linear(DT_RANK, D_INNER, bias=True)
        a = torch.arange(1, D_STATE + 1, dtype=torch.float32).repeat(D_INNER, 1)
        self.A_log = nn.Parameter(torch.log(a))
        self.D = nn.Parameter(torch.ones(D_INNER))
        self.out_proj = nn.Linear(D_INNER, D_MODEL, bias=False)
        with torch.no_grad():  # dt in a realistic range (Mamba's dt init)
            dt = torch.exp(torch.rand(D_INNER) * (math.log(0.1) - math.log(1e-3))
                           + math.log(1e-3))
            self.dt_proj.bias.copy_(dt + torch.log(-torch.expm1(-dt)))

    def forward(self, h):
        b, t, _ = h.shape
        xz = self.in_proj(self.norm(h))
        x, z = xz.chunk(2, dim=-1)
        x = self.conv1d(x.transpose(1, 2))[..., :t]          # causal conv [B, C, T]
        x = nn.functional.silu(x).transpose(1, 2)             # [B, T, C]
        dbc = self.x_proj(x)
        dt, bm, cm = torch.split(dbc, [DT_RANK, D_STATE, D_STATE], dim=-1)
        dt = nn.functional.softplus(self.dt_proj(dt))         # [B, T, C]
        A = -torch.exp(self.A_log)                            # [C, N]
        dA = torch.exp(dt.unsqueeze(-1) * A)                  # [B, T, C, N]
        dBx = (dt * x).unsqueeze(-1) * bm.unsqueeze(2)        # [B, T, C, N]
        state = torch.zeros(b, D_INNER, D_STATE)
        ys = []
        for i in range(t):                                    # the selective scan
            state = dA[:, i] * state + dBx[:, i]
            ys.append((state * cm[:, i].unsqueeze(1)).sum(-1))
        y = torch.stack(ys, dim=1) + x * self.D               # [B, T, C]
        y = y * nn.functional.silu(z)
        return h + self.out_proj(y)


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "models"
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    block = MambaBlock().eval()
    x = torch.randn(1, T, D_MODEL)
    torch.onnx.export(block, (x,), str(out / "mamba_block.onnx"), input_names=["x"],
                      output_names=["y"], opset_version=17, dynamo=False)


if __name__ == "__main__":
    main()
