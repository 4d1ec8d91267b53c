"""Shared pieces of the benchmark block generators: RMSNorm, rotary tables,
causal masks and the TorchScript ONNX export every generator uses.

Every generator module defines `build(**cfg) -> (module, example_input)` and
a `CONFIGS` dict of named sizes; `export(name, out_dir)` writes
`<name>.onnx`. Weights are random (seed 0): the benchmark measures speed and
checks outputs against onnxruntime, not model quality.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
from torch import nn


class RMSNorm(nn.Module):
    def __init__(self, d: int, eps: float = 1e-6):
        super().__init__()
        self.weight = nn.Parameter(1 + 0.1 * torch.randn(d))
        self.eps = eps

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


def rope_tables(t: int, head_dim: int, base: float = 10000.0):
    inv = 1.0 / (base ** (torch.arange(0, head_dim, 2).float() / head_dim))
    freqs = torch.outer(torch.arange(t).float(), inv)
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos(), emb.sin()


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def causal_mask(t: int):
    return torch.full((t, t), float("-inf")).triu(1)


class Attention(nn.Module):
    """Llama attention (GQA with repeat_kv, RoPE, causal), optionally with
    per-head RMSNorm of q and k before the rotation (Qwen3)."""

    def __init__(self, d, heads, kv_heads, t, qk_norm=False):
        super().__init__()
        self.heads, self.kv_heads, self.hd = heads, kv_heads, d // heads
        self.wq = nn.Linear(d, heads * self.hd, bias=False)
        self.wk = nn.Linear(d, kv_heads * self.hd, bias=False)
        self.wv = nn.Linear(d, kv_heads * self.hd, bias=False)
        self.wo = nn.Linear(heads * self.hd, d, bias=False)
        self.q_norm = RMSNorm(self.hd) if qk_norm else None
        self.k_norm = RMSNorm(self.hd) if qk_norm else None
        cos, sin = rope_tables(t, self.hd)
        self.register_buffer("cos", cos)
        self.register_buffer("sin", sin)
        self.register_buffer("mask", causal_mask(t))

    def forward(self, h):
        b, t, d = h.shape
        q = self.wq(h).view(b, t, self.heads, self.hd)
        k = self.wk(h).view(b, t, self.kv_heads, self.hd)
        v = self.wv(h).view(b, t, self.kv_heads, self.hd).transpose(1, 2)
        if self.q_norm is not None:
            q, k = self.q_norm(q), self.k_norm(k)
        q, k = q.transpose(1, 2), k.transpose(1, 2)
        q = q * self.cos + rotate_half(q) * self.sin
        k = k * self.cos + rotate_half(k) * self.sin
        rep = self.heads // self.kv_heads
        k = k[:, :, None].expand(b, self.kv_heads, rep, t, self.hd).reshape(b, self.heads, t, self.hd)
        v = v[:, :, None].expand(b, self.kv_heads, rep, t, self.hd).reshape(b, self.heads, t, self.hd)
        s = q @ k.transpose(2, 3) / math.sqrt(self.hd) + self.mask
        o = torch.softmax(s, dim=-1) @ v
        return self.wo(o.transpose(1, 2).reshape(b, t, d))


class SwiGLU(nn.Module):
    def __init__(self, d, ffn):
        super().__init__()
        self.gate = nn.Linear(d, ffn, bias=False)
        self.up = nn.Linear(d, ffn, bias=False)
        self.down = nn.Linear(ffn, d, bias=False)

    def forward(self, h):
        return self.down(nn.functional.silu(self.gate(h)) * self.up(h))


def export(module: nn.Module, x: torch.Tensor, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(module.eval(), (x,), str(path), input_names=["x"],
                          output_names=["y"], opset_version=17, dynamo=False)
    return path
