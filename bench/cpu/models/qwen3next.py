"""Qwen3-Next linear-attention (Gated DeltaNet) block: RMSNorm, then
transformers' own `Qwen3NextGatedDeltaNet` layer (q/k/v/z and b/a
projections, causal depthwise conv1d + SiLU, L2-normalized q/k, the chunked
gated delta rule `torch_chunk_gated_delta_rule` in chunks of 64 with the UT
transform by forward substitution, the gated RMSNorm, out_proj), residual.
Exported with torch.onnx dynamo; the ONNX importer reads the rule as one
kestrel.gated_recurrence (gate gated_delta). Needs transformers."""

from __future__ import annotations

import torch
import transformers
from torch import nn
from transformers.models.qwen3_next.modeling_qwen3_next import (
    Qwen3NextGatedDeltaNet)

from common import RMSNorm

CONFIGS = {"qwen3next_gdn_d512_t256": dict(d=512, k_heads=4, v_heads=8,
                                           head_dim=64, t=256)}


class Block(nn.Module):
    def __init__(self, d, k_heads, v_heads, head_dim):
        super().__init__()
        config = transformers.Qwen3NextConfig(
            hidden_size=d, linear_num_key_heads=k_heads,
            linear_num_value_heads=v_heads, linear_key_head_dim=head_dim,
            linear_value_head_dim=head_dim, linear_conv_kernel_dim=4)
        self.norm = RMSNorm(d)
        self.mixer = Qwen3NextGatedDeltaNet(config, layer_idx=0)
        with torch.no_grad():  # HF leaves A_log / dt_bias to _init_weights
            self.mixer.dt_bias.copy_(torch.rand(v_heads))
            self.mixer.A_log.copy_(torch.log(torch.rand(v_heads) * 15 + 1))

    def forward(self, x):
        return x + self.mixer(self.norm(x))


def export(module, x, path):
    """torch.onnx's dynamo exporter, as Hugging Face models are exported."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(module.eval(), (x,), str(path), input_names=["x"],
                          output_names=["y"], dynamo=True, external_data=False)
    return path


def build(d, k_heads, v_heads, head_dim, t):
    torch.manual_seed(0)
    return Block(d, k_heads, v_heads, head_dim), torch.randn(1, t, d)
