"""Jamba-style hybrid: a Mamba layer then an attention layer, each followed
by a SwiGLU MLP (Jamba interleaves the two kinds of mixer)."""

from __future__ import annotations

import torch
from torch import nn

from common import Attention, RMSNorm, SwiGLU
from mamba import Mixer

CONFIGS = {"jamba_d512_t128": dict(d=512, heads=8, kv_heads=2, ffn=1408,
                                   d_state=16, t=128)}


class Block(nn.Module):
    def __init__(self, d, heads, kv_heads, ffn, d_state, t):
        super().__init__()
        self.norms = nn.ModuleList(RMSNorm(d) for _ in range(4))
        self.mamba = Mixer(d, d_state, 4)
        self.attn = Attention(d, heads, kv_heads, t)
        self.mlp1, self.mlp2 = SwiGLU(d, ffn), SwiGLU(d, ffn)

    def forward(self, x):
        x = x + self.mamba(self.norms[0](x))
        x = x + self.mlp1(self.norms[1](x))
        x = x + self.attn(self.norms[2](x))
        return x + self.mlp2(self.norms[3](x))


def build(d, heads, kv_heads, ffn, d_state, t):
    torch.manual_seed(0)
    return Block(d, heads, kv_heads, ffn, d_state, t), torch.randn(1, t, d)
