"""Regenerates the model zoo of test/models/: one tiny random-weight Hugging
Face `transformers` model per architecture (2 layers, seed 0, float32),
exported the way a user would: `torch.onnx.export(model, args, f,
dynamo=True)` with transformers' default attention implementation.

The exported files are committed (weights as initializers in one file, a few
hundred KB each); test/models/test_zoo.py reads them, so neither torch nor
transformers is needed at test time. Each export also writes
`<name>.export.json`: the versions used and what the export did (or the
exporter's error when the class does not export).

    python3 test/models/export_zoo.py [NAME ...]      (default: all)

Versions used for the committed files: see the .export.json files
(transformers 5.25, torch 2.15, onnxscript 0.7).
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from pathlib import Path

import onnx
import onnxscript
import torch
import transformers as tf

HERE = Path(__file__).resolve().parent
T = 16          # sequence length of the exported graphs
VOCAB = 64
BATCH = 1

# Shared tiny sizes: d_model 32, 2 query heads of 16 over 1 KV head.
ATTN = dict(vocab_size=VOCAB, hidden_size=32, num_hidden_layers=2,
            num_attention_heads=2, num_key_value_heads=1, head_dim=16,
            max_position_embeddings=64)


def _llama():
    return tf.LlamaForCausalLM(tf.LlamaConfig(intermediate_size=64, **ATTN))


def _qwen3():
    return tf.Qwen3ForCausalLM(tf.Qwen3Config(intermediate_size=64, **ATTN))


def _mixtral():
    return tf.MixtralForCausalLM(tf.MixtralConfig(
        intermediate_size=32, num_local_experts=4, num_experts_per_tok=2,
        **ATTN))


def _qwen2_moe():
    return tf.Qwen2MoeForCausalLM(tf.Qwen2MoeConfig(
        intermediate_size=64, moe_intermediate_size=32,
        shared_expert_intermediate_size=32, num_experts=4,
        num_experts_per_tok=2, decoder_sparse_step=1, **ATTN))


def _deepseek_v3():
    cfg = dict(ATTN)
    cfg.pop("head_dim")
    return tf.DeepseekV3ForCausalLM(tf.DeepseekV3Config(
        intermediate_size=64, moe_intermediate_size=32, n_routed_experts=4,
        n_shared_experts=1, num_experts_per_tok=2, n_group=2, topk_group=1,
        first_k_dense_replace=1, q_lora_rank=16, kv_lora_rank=16,
        qk_rope_head_dim=8, qk_nope_head_dim=8, v_head_dim=16,
        num_key_value_heads=2, **{k: v for k, v in cfg.items()
                                  if k != "num_key_value_heads"}))


def _mamba():
    return tf.MambaForCausalLM(tf.MambaConfig(
        vocab_size=VOCAB, hidden_size=32, state_size=8, num_hidden_layers=2,
        expand=2, conv_kernel=4, time_step_rank=4, use_mambapy=False))


def _mamba2():
    return tf.Mamba2ForCausalLM(tf.Mamba2Config(
        vocab_size=VOCAB, hidden_size=32, state_size=8, num_hidden_layers=2,
        expand=2, conv_kernel=4, num_heads=4, head_dim=16, n_groups=1,
        chunk_size=8, time_step_rank=4))


def _jamba():
    cfg = {k: v for k, v in ATTN.items() if k != "head_dim"}
    return tf.JambaForCausalLM(tf.JambaConfig(
        intermediate_size=32, num_experts=4, num_experts_per_tok=2,
        expert_layer_period=2, expert_layer_offset=1, attn_layer_period=2,
        attn_layer_offset=1, mamba_d_state=8, mamba_d_conv=4,
        mamba_expand=2, mamba_dt_rank=4, use_mamba_kernels=False, **cfg))


def _qwen3_next():
    return tf.Qwen3NextForCausalLM(tf.Qwen3NextConfig(
        intermediate_size=64, moe_intermediate_size=32,
        shared_expert_intermediate_size=32, num_experts=4,
        num_experts_per_tok=2, decoder_sparse_step=1,
        layer_types=["linear_attention", "full_attention"],
        linear_num_value_heads=2, linear_num_key_heads=1,
        linear_key_head_dim=16, linear_value_head_dim=16,
        linear_conv_kernel_dim=4, **ATTN))


def _falcon_h1():
    return tf.FalconH1ForCausalLM(tf.FalconH1Config(
        intermediate_size=64, mamba_d_ssm=32, mamba_n_heads=2,
        mamba_d_head=16, mamba_n_groups=1, mamba_d_state=8, mamba_d_conv=4,
        mamba_expand=2, mamba_chunk_size=8, **ATTN))


def _granite_moe_hybrid():
    cfg = {k: v for k, v in ATTN.items() if k != "head_dim"}
    return tf.GraniteMoeHybridForCausalLM(tf.GraniteMoeHybridConfig(
        intermediate_size=32, shared_intermediate_size=32,
        num_local_experts=4, num_experts_per_tok=2,
        layer_types=["mamba", "attention"], mamba_n_heads=4,
        mamba_d_head=16, mamba_n_groups=1, mamba_d_state=8, mamba_d_conv=4,
        mamba_expand=2, mamba_chunk_size=8, **cfg))


def _llama_f16():
    return _llama().to(torch.float16)


def _llama_bf16():
    return _llama().to(torch.bfloat16)


MODELS = {
    "llama": _llama,
    "llama_f16": _llama_f16,      # the same weights as llama, model.half()
    "llama_bf16": _llama_bf16,    # and .to(torch.bfloat16)
    "qwen3": _qwen3,
    "mixtral": _mixtral,
    "qwen2_moe": _qwen2_moe,
    "deepseek_v3": _deepseek_v3,
    "mamba": _mamba,
    "mamba2": _mamba2,
    "jamba": _jamba,
    "qwen3_next": _qwen3_next,
    "falcon_h1": _falcon_h1,
    "granite_moe_hybrid": _granite_moe_hybrid,
}


class Logits(torch.nn.Module):
    """input_ids -> logits, without a cache (a prefill)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids):
        return self.model(input_ids=input_ids, use_cache=False).logits


def _strip_debug_info(model: onnx.ModelProto) -> None:
    """Drops the exporter's per-node debug metadata (stack traces with this
    machine's paths, FX names: ~3/4 of a tiny model's bytes). The graph,
    its nodes, attributes and initializers are left as exported."""
    def strip(graph):
        for node in graph.node:
            del node.metadata_props[:]
            node.doc_string = ""
            for attr in node.attribute:
                if attr.HasField("g"):
                    strip(attr.g)
                for g in attr.graphs:
                    strip(g)
        for v in list(graph.value_info) + list(graph.input) + list(graph.output):
            del v.metadata_props[:]
        for init in graph.initializer:
            del init.metadata_props[:]
    strip(model.graph)


def _exporter_error(e: Exception) -> str:
    """The exporter's reason, from its 'Exception summary' when it has one."""
    text = str(e)
    if "## Exception summary" in text:
        text = text.split("## Exception summary", 1)[1]
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return f"{type(e).__name__}: {lines[0][:400] if lines else ''}"


def _export_once(model, ids, out: Path) -> None:
    with torch.no_grad():
        prog = torch.onnx.export(Logits(model), (ids,), dynamo=True)
    proto = prog.model_proto
    _strip_debug_info(proto)
    onnx.save(proto, str(out))


def export(name: str) -> dict:
    """Exports `name` with transformers' defaults. An MoE model whose default
    experts implementation does not export (grouped_mm: no ONNX lowering in
    torch 2.15) is exported again with experts_implementation="batched_mm",
    the one transformers' own ONNX exporter picks; both outcomes are
    recorded."""
    torch.manual_seed(0)
    model = MODELS[name]().eval()
    ids = torch.randint(0, VOCAB, (BATCH, T), generator=torch.Generator()
                        .manual_seed(0))
    out = HERE / f"{name}.onnx"
    out.unlink(missing_ok=True)
    info = {"model": type(model).__name__,
            "attn_implementation": model.config._attn_implementation,
            "transformers": tf.__version__, "torch": torch.__version__,
            "onnxscript": onnxscript.__version__,
            "params": sum(p.numel() for p in model.parameters()),
            "input_ids_shape": [BATCH, T]}
    can_switch = getattr(model, "_can_set_experts_implementation",
                         lambda: False)()
    if can_switch:
        info["experts_implementation"] = model.config._experts_implementation
    start = time.time()
    try:
        _export_once(model, ids, out)
        info["export"] = "ok"
    except Exception as e:  # the exporter's refusal is the result
        info["export"] = "failed"
        info["error"] = _exporter_error(e)
        traceback.print_exc(limit=1)
        if can_switch:
            model.set_experts_implementation("batched_mm")
            try:
                _export_once(model, ids, out)
                info["export"] = "ok with experts_implementation=batched_mm"
            except Exception as e2:
                info["error_batched_mm"] = _exporter_error(e2)
                traceback.print_exc(limit=1)
    info["export_s"] = round(time.time() - start, 1)
    (HERE / f"{name}.export.json").write_text(json.dumps(info, indent=1) + "\n")
    return info


if __name__ == "__main__":
    for name in sys.argv[1:] or MODELS:
        print(name, export(name), flush=True)
