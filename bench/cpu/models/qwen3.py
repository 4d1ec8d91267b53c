"""Qwen3-style decoder block: a Llama block whose q and k get a per-head
RMSNorm before the rotation."""

from __future__ import annotations

import torch

from llama import Block

CONFIGS = {"qwen3_d512_t512": dict(d=512, heads=8, kv_heads=2, ffn=1408, t=512)}


def build(d, heads, kv_heads, ffn, t):
    torch.manual_seed(0)
    return Block(d, heads, kv_heads, ffn, t, qk_norm=True), torch.randn(1, t, d)
