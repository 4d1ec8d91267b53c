"""Regenerates test/onnx/models/group_router.onnx: DeepSeek-V3's
group-limited sigmoid router as transformers computes it (its own
`DeepseekV3TopkRouter`: sigmoid scores plus the selection bias, group
scores from each group's two best experts, a scatter of the chosen groups
into a mask, top-k over the masked keys, the unbiased scores gathered and
renormalized, times the routed scaling factor), exported by torch.onnx
(dynamo) in the form the importer recognizes
(lib/Frontend/Onnx/OnnxGroupRouter.cpp).

Input: hidden states x [N, d]; outputs: weights [N, k] and expert indices
[N, k] (unsorted, as the router asks). The committed model: N 12, d 16,
16 experts in 4 groups, 2 groups kept, k 4, a random selection bias,
seed 3. test/onnx/test_onnx_group_router.py exports other configurations
when torch and transformers are installed. The exporter's per-node debug
metadata is stripped; nothing else is changed.

    python3 test/onnx/export_group_router.py [OUT_DIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
import transformers
from torch import nn
from transformers.models.deepseek_v3.modeling_deepseek_v3 import (
    DeepseekV3TopkRouter)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from export_chunked_delta import export_stripped  # noqa: E402

CONFIG = dict(tokens=12, hidden=16, experts=16, groups=4, topk_groups=2, k=4,
              renormalize=True)


class Router(nn.Module):
    """transformers' router; returns (weights, indices)."""

    def __init__(self, hidden, experts, groups, topk_groups, k, renormalize,
                 seed=3):
        super().__init__()
        config = transformers.DeepseekV3Config(
            hidden_size=hidden, n_routed_experts=experts,
            num_experts_per_tok=k, n_group=groups, topk_group=topk_groups,
            norm_topk_prob=renormalize, routed_scaling_factor=2.5)
        self.gate = DeepseekV3TopkRouter(config)
        gen = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            self.gate.weight.copy_(torch.randn(experts, hidden, generator=gen))
            self.gate.e_score_correction_bias.copy_(
                0.3 * torch.randn(experts, generator=gen))

    def forward(self, x):
        _, weights, indices = self.gate(x)
        return weights, indices


def export(module, tokens, path, seed=5):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(tokens, module.gate.hidden_dim, generator=gen)
    return export_stripped(module, (x,), path, ["x"], ["weights", "indices"])


def main():
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else \
        Path(__file__).resolve().parent / "models"
    c = dict(CONFIG)
    tokens = c.pop("tokens")
    print(export(Router(**c).eval(), tokens, out / "group_router.onnx"))


if __name__ == "__main__":
    main()
