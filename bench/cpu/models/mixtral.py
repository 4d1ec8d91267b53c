"""Mixtral-style decoder block: Llama attention, then a sparse MoE sublayer
(softmax router, top-2 of E experts renormalized, SwiGLU experts) written
in the dense-mask form that exports without data-dependent shapes (every
expert on every token, weighted by its routing weight, 0 off the top 2):
the form kestrelc recognizes into kestrel.route + kestrel.moe, and that
onnxruntime runs densely."""

from __future__ import annotations

import torch
from torch import nn

from common import Attention, RMSNorm, SwiGLU

CONFIGS = {"mixtral_d512_t256_e8": dict(d=512, heads=8, kv_heads=2, ffn=704,
                                        experts=8, t=256)}


class MoE(nn.Module):
    def __init__(self, d, ffn, experts, k=2):
        super().__init__()
        self.k = k
        self.gate = nn.Linear(d, experts, bias=False)
        self.experts = nn.ModuleList(SwiGLU(d, ffn) for _ in range(experts))

    def forward(self, x):
        b, t, d = x.shape
        h = x.reshape(-1, d)
        probs = torch.softmax(self.gate(h), dim=-1)
        weights, indices = torch.topk(probs, self.k, dim=-1)
        weights = weights / weights.sum(dim=-1, keepdim=True)
        out = torch.zeros_like(h)
        for e, expert in enumerate(self.experts):
            w_e = torch.where(indices == e, weights, torch.zeros_like(weights))
            out = out + w_e.sum(dim=-1, keepdim=True) * expert(h)
        return out.reshape(b, t, d)


class Block(nn.Module):
    def __init__(self, d, heads, kv_heads, ffn, experts, t):
        super().__init__()
        self.norm1, self.norm2 = RMSNorm(d), RMSNorm(d)
        self.attn = Attention(d, heads, kv_heads, t)
        self.moe = MoE(d, ffn, experts)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.moe(self.norm2(x))


def build(d, heads, kv_heads, ffn, experts, t):
    torch.manual_seed(0)
    return Block(d, heads, kv_heads, ffn, experts, t), torch.randn(1, t, d)
