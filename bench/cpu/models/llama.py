"""Llama decoder block (RMSNorm, GQA attention with RoPE, SwiGLU MLP)."""

from __future__ import annotations

import torch
from torch import nn

from common import Attention, RMSNorm, SwiGLU

CONFIGS = {"llama_d512_t512": dict(d=512, heads=8, kv_heads=2, ffn=1408, t=512),
           "llama_d1024_t128": dict(d=1024, heads=16, kv_heads=4, ffn=2816, t=128)}


class Block(nn.Module):
    def __init__(self, d, heads, kv_heads, ffn, t, qk_norm=False):
        super().__init__()
        self.norm1, self.norm2 = RMSNorm(d), RMSNorm(d)
        self.attn = Attention(d, heads, kv_heads, t, qk_norm=qk_norm)
        self.mlp = SwiGLU(d, ffn)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


def build(d, heads, kv_heads, ffn, t):
    torch.manual_seed(0)
    return Block(d, heads, kv_heads, ffn, t), torch.randn(1, t, d)
