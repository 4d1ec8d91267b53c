"""Regenerates test/onnx/models/moe_block.onnx: one Mixtral-style sparse MoE
sublayer (pre-RMSNorm, router, softmax top-2 of 8 experts with renormalized
weights, SwiGLU experts, residual) with random weights (seed 0), d_model 64,
expert hidden size 96, batch 2, T 8, exported by PyTorch's TorchScript
exporter (opset 17).

The expert loop is written in the dense-mask form that exports without
data-dependent shapes: every expert runs on every token and its output is
scaled by the token's routing weight for it, which is 0 unless the expert is
among the token's top 2:

    w_e = where(indices == e, weights, 0).sum(-1, keepdim=True)   # [N, 1]
    out = out + w_e * expert_e(x)

That computes exactly Mixtral's output (the Hugging Face loop over
index_add_/nonzero computes the same sum, but exports to dynamic shapes), and
is what kestrelc recognizes into kestrel.route + kestrel.moe
(lib/Frontend/Onnx/OnnxRecognizeBlocks.cpp). Needs torch; CI does not have it, so the
generated model is committed.

    python3 test/onnx/export_moe_block.py [OUT_DIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
from torch import nn

D_MODEL, EXPERTS, TOP_K, FFN, BATCH, T = 64, 8, 2, 96, 2, 8


class RMSNorm(nn.Module):
    def __init__(self, d: int, eps: float = 1e-5):
        super().__init__()
        self.weight = nn.Parameter(1 + 0.1 * torch.randn(d))
        self.eps = eps

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


class Expert(nn.Module):
    """Mixtral's MixtralBlockSparseTop2MLP: w2(silu(w1 x) * w3 x)."""

    def __init__(self):
        super().__init__()
        self.w1 = nn.Linear(D_MODEL, FFN, bias=False)
        self.w3 = nn.Linear(D_MODEL, FFN, bias=False)
        self.w2 = nn.Linear(FFN, D_MODEL, bias=False)

    def forward(self, x):
        return self.w2(nn.functional.silu(self.w1(x)) * self.w3(x))


class MoeBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm = RMSNorm(D_MODEL)
        self.gate = nn.Linear(D_MODEL, EXPERTS, bias=False)
        self.experts = nn.ModuleList(Expert() for _ in range(EXPERTS))

    def forward(self, x):
        b, t, d = x.shape
        h = self.norm(x).reshape(-1, d)
        logits = self.gate(h)
        probs = torch.softmax(logits, dim=-1)
        weights, indices = torch.topk(probs, TOP_K, dim=-1)
        weights = weights / weights.sum(dim=-1, keepdim=True)
        out = torch.zeros_like(h)
        for e, expert in enumerate(self.experts):
            w_e = torch.where(indices == e, weights, torch.zeros_like(weights))
            out = out + w_e.sum(dim=-1, keepdim=True) * expert(h)
        return x + out.reshape(b, t, d)


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "models"
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    block = MoeBlock().eval()
    x = torch.randn(BATCH, T, D_MODEL)
    torch.onnx.export(block, (x,), str(out / "moe_block.onnx"), input_names=["x"],
                      output_names=["y"], opset_version=17, dynamo=False)


if __name__ == "__main__":
    main()
