"""Regenerates test/onnx/models/gated_delta_chunked.onnx: the gated delta
rule as Hugging Face's CPU path computes it (`torch_chunk_gated_delta_rule`
of Qwen3-Next's Gated DeltaNet, transformers' own function: chunks of L
tokens, the UT transform by forward substitution, a scan over the chunks
passing the state), exported by torch.onnx (dynamo) in the form the
importer recognizes (lib/Frontend/Onnx/OnnxChunkedDelta.cpp).

Inputs: q, k [b, T, Hk, Dk], v [b, T, Hv, Dv], g (log decay, <= 0) and
beta [b, T, Hv]; output o [b, T, Hv, Dv]; q and k are L2-normalized inside
(`use_qk_l2norm_in_kernel=True`, as Qwen3-Next calls it). The committed
model: b 1, T 20 (padded to 3 chunks of 8), Hk 1, Hv 2, Dk 8, Dv 8.
test/onnx/test_onnx_chunked_delta.py exports other shapes when torch and
transformers are installed. The exporter's per-node debug metadata (stack
traces with this machine's paths) is stripped; nothing else is changed.

    python3 test/onnx/export_chunked_delta.py [OUT_DIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

import onnx
import torch
from torch import nn
from transformers.models.qwen3_next.modeling_qwen3_next import (
    torch_chunk_gated_delta_rule)

SHAPE = dict(b=1, T=20, Hk=1, Hv=2, Dk=8, Dv=8, L=8)


class ChunkedGatedDelta(nn.Module):
    """transformers' chunked gated delta rule, output only."""

    def __init__(self, chunk):
        super().__init__()
        self.chunk = chunk

    def forward(self, q, k, v, g, beta):
        return torch_chunk_gated_delta_rule(
            q, k, v, g, beta, chunk_size=self.chunk,
            use_qk_l2norm_in_kernel=True)[0]


def inputs(b, T, Hk, Hv, Dk, Dv, seed=1):
    gen = torch.Generator().manual_seed(seed)
    return (torch.randn(b, T, Hk, Dk, generator=gen),
            torch.randn(b, T, Hk, Dk, generator=gen),
            torch.randn(b, T, Hv, Dv, generator=gen),
            -torch.nn.functional.softplus(torch.randn(b, T, Hv, generator=gen)),
            torch.sigmoid(torch.randn(b, T, Hv, generator=gen)))


def strip_debug_metadata(model):
    for node in model.graph.node:
        del node.metadata_props[:]
        node.doc_string = ""
    for v in list(model.graph.value_info) + list(model.graph.input) + \
            list(model.graph.output):
        del v.metadata_props[:]
    for init in model.graph.initializer:
        del init.metadata_props[:]


def export_stripped(module, example, path, input_names, output_names):
    """torch.onnx (dynamo) export to one file, debug metadata stripped."""
    with torch.no_grad():
        torch.onnx.export(module, example, str(path), input_names=input_names,
                          output_names=output_names, dynamo=True,
                          external_data=False)
    model = onnx.load(str(path))
    strip_debug_metadata(model)
    onnx.save(model, str(path))
    return path


def export(module, example, path):
    return export_stripped(module, example, path,
                           ["q", "k", "v", "g", "beta"], ["o"])


def main():
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else \
        Path(__file__).resolve().parent / "models"
    s = SHAPE
    example = inputs(s["b"], s["T"], s["Hk"], s["Hv"], s["Dk"], s["Dv"])
    print(export(ChunkedGatedDelta(s["L"]).eval(), example,
                 out / "gated_delta_chunked.onnx"))


if __name__ == "__main__":
    main()
