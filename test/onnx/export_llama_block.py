"""Regenerates test/onnx/models/llama_block.onnx: one Llama-style decoder
block (RMSNorm, RoPE, GQA causal attention with repeat_kv, SwiGLU MLP) with
random weights (seed 0), d_model 64, 4 query heads, 2 KV heads, T 16, batch 1,
exported by PyTorch's TorchScript exporter (opset 17).

The attention is written out the way Llama implementations do
(q @ k.transpose(2, 3) / sqrt(d) + causal mask -> softmax -> @ v), which is
what kestrelc recognizes into kestrel.attention. Needs torch; CI does not have
it, so the generated model is committed.

    python3 test/onnx/export_llama_block.py [OUT_DIR]
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import torch
from torch import nn

D_MODEL, HEADS, KV_HEADS, T, FFN = 64, 4, 2, 16, 128
HEAD_DIM = D_MODEL // HEADS


class RMSNorm(nn.Module):
    def __init__(self, d: int, eps: float = 1e-6):
        super().__init__()
        self.weight = nn.Parameter(1 + 0.1 * torch.randn(d))
        self.eps = eps

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm1, self.norm2 = RMSNorm(D_MODEL), RMSNorm(D_MODEL)
        self.wq = nn.Linear(D_MODEL, HEADS * HEAD_DIM, bias=False)
        self.wk = nn.Linear(D_MODEL, KV_HEADS * HEAD_DIM, bias=False)
        self.wv = nn.Linear(D_MODEL, KV_HEADS * HEAD_DIM, bias=False)
        self.wo = nn.Linear(HEADS * HEAD_DIM, D_MODEL, bias=False)
        self.gate = nn.Linear(D_MODEL, FFN, bias=False)
        self.up = nn.Linear(D_MODEL, FFN, bias=False)
        self.down = nn.Linear(FFN, D_MODEL, bias=False)
        inv = 1.0 / (10000 ** (torch.arange(0, HEAD_DIM, 2).float() / HEAD_DIM))
        freqs = torch.outer(torch.arange(T).float(), inv)
        emb = torch.cat((freqs, freqs), dim=-1)
        self.register_buffer("cos", emb.cos())
        self.register_buffer("sin", emb.sin())
        mask = torch.full((T, T), float("-inf")).triu(1)
        self.register_buffer("mask", mask)

    def forward(self, x):
        b, t, _ = x.shape
        h = self.norm1(x)
        q = self.wq(h).view(b, t, HEADS, HEAD_DIM).transpose(1, 2)
        k = self.wk(h).view(b, t, KV_HEADS, HEAD_DIM).transpose(1, 2)
        v = self.wv(h).view(b, t, KV_HEADS, HEAD_DIM).transpose(1, 2)
        q = q * self.cos + rotate_half(q) * self.sin
        k = k * self.cos + rotate_half(k) * self.sin
        rep = HEADS // KV_HEADS  # repeat_kv
        k = k[:, :, None].expand(b, KV_HEADS, rep, t, HEAD_DIM).reshape(b, HEADS, t, HEAD_DIM)
        v = v[:, :, None].expand(b, KV_HEADS, rep, t, HEAD_DIM).reshape(b, HEADS, t, HEAD_DIM)
        scores = q @ k.transpose(2, 3) / math.sqrt(HEAD_DIM) + self.mask
        attn = torch.softmax(scores, dim=-1) @ v
        x = x + self.wo(attn.transpose(1, 2).reshape(b, t, D_MODEL))
        h = self.norm2(x)
        return x + self.down(nn.functional.silu(self.gate(h)) * self.up(h))


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "models"
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    block = Block().eval()
    x = torch.randn(1, T, D_MODEL)
    torch.onnx.export(block, (x,), str(out / "llama_block.onnx"), input_names=["x"],
                      output_names=["y"], opset_version=17, dynamo=False)


if __name__ == "__main__":
    main()
