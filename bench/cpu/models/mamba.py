"""Mamba(1) block (RMSNorm, in_proj, causal depthwise conv1d + SiLU, x_proj,
dt_proj + softplus, selective scan, silu(z) gate, out_proj, residual), the
scan written as the sequential reference loop (unrolled by the exporter)."""

from __future__ import annotations

import math

import torch
from torch import nn

from common import RMSNorm

CONFIGS = {"mamba_d512_t128": dict(d=512, d_state=16, d_conv=4, t=128)}


class Mixer(nn.Module):
    def __init__(self, d, d_state, d_conv):
        super().__init__()
        inner, self.rank, self.n = 2 * d, math.ceil(d / 16), d_state
        self.in_proj = nn.Linear(d, 2 * inner, bias=False)
        self.conv1d = nn.Conv1d(inner, inner, d_conv, groups=inner,
                                padding=d_conv - 1, bias=True)
        self.x_proj = nn.Linear(inner, self.rank + 2 * d_state, bias=False)
        self.dt_proj = nn.Linear(self.rank, inner, bias=True)
        a = torch.arange(1, d_state + 1, dtype=torch.float32).repeat(inner, 1)
        self.A_log = nn.Parameter(torch.log(a))
        self.D = nn.Parameter(torch.ones(inner))
        self.out_proj = nn.Linear(inner, d, bias=False)
        with torch.no_grad():
            dt = torch.exp(torch.rand(inner) * (math.log(0.1) - math.log(1e-3))
                           + math.log(1e-3))
            self.dt_proj.bias.copy_(dt + torch.log(-torch.expm1(-dt)))

    def forward(self, h):
        b, t, _ = h.shape
        x, z = self.in_proj(h).chunk(2, dim=-1)
        x = self.conv1d(x.transpose(1, 2))[..., :t]
        x = nn.functional.silu(x).transpose(1, 2)
        dt, bm, cm = torch.split(self.x_proj(x), [self.rank, self.n, self.n], dim=-1)
        dt = nn.functional.softplus(self.dt_proj(dt))
        dA = torch.exp(dt.unsqueeze(-1) * -torch.exp(self.A_log))
        dBx = (dt * x).unsqueeze(-1) * bm.unsqueeze(2)
        state = torch.zeros(b, x.shape[-1], self.n)
        ys = []
        for i in range(t):
            state = dA[:, i] * state + dBx[:, i]
            ys.append((state * cm[:, i].unsqueeze(1)).sum(-1))
        y = (torch.stack(ys, dim=1) + x * self.D) * nn.functional.silu(z)
        return self.out_proj(y)


class Block(nn.Module):
    def __init__(self, d, d_state, d_conv):
        super().__init__()
        self.norm, self.mixer = RMSNorm(d), Mixer(d, d_state, d_conv)

    def forward(self, x):
        return x + self.mixer(self.norm(x))


def build(d, d_state, d_conv, t):
    torch.manual_seed(0)
    return Block(d, d_state, d_conv), torch.randn(1, t, d)
