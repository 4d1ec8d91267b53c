"""The blocks of the GPU model benchmark (bench/gpu/bench_models.sh): the
Llama and Mixtral generators of bench/cpu/models at the sizes of issue 14,
with weights that both machines rebuild from NumPy seeds (PCG64 streams are
stable across NumPy versions), so that only the compiled PTX and the
compressed weights sidecar travel to the device.

Each weight tensor of fan-in f is W.flat[i] = T[(7919 i) mod 4093] with
T ~ U(-1, 1) / sqrt(f) drawn from its own seed (norm weights 1 + T / 10):
the nn.Linear initialization's scale, and periodic, so the sidecar
compresses from hundreds of MiB to a few KiB (a real model's weights would
not; the arithmetic and memory traffic are the same).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

MODELS = Path(__file__).resolve().parents[1] / "cpu" / "models"
sys.path.insert(0, str(MODELS))

CASES = {
    "llama_d512_t2048": ("llama", dict(d=512, heads=8, kv_heads=2, ffn=1408, t=2048)),
    "mixtral_d512_t1024": ("mixtral", dict(d=512, heads=8, kv_heads=2, ffn=512,
                                           experts=8, t=1024)),
    "llama_d2048_t4096": ("llama", dict(d=2048, heads=16, kv_heads=4, ffn=5632, t=4096)),
}
PERIOD, STRIDE = 4093, 7919


def pattern(shape, seed: int, norm: bool) -> np.ndarray:
    fan_in = shape[-1] if len(shape) > 1 else 1
    table = np.random.default_rng(seed).uniform(-1, 1, PERIOD)
    table = 1 + table / 10 if norm else table / np.sqrt(fan_in)
    flat = table[(STRIDE * np.arange(int(np.prod(shape)), dtype=np.int64)) % PERIOD]
    return flat.reshape(shape).astype(np.float32)


def build(name: str):
    """The torch module of case `name` with its pattern weights, and x."""
    import importlib
    gen, cfg = CASES[name]
    mod = importlib.import_module(gen)
    torch.manual_seed(0)
    module = mod.Block(**cfg).eval()
    with torch.no_grad():
        for i, (pname, p) in enumerate(module.named_parameters()):
            p.copy_(torch.from_numpy(pattern(tuple(p.shape), 1000 + i,
                                             norm=p.dim() == 1)))
    x = np.random.default_rng(2026_12_03).standard_normal(
        (1, cfg["t"], cfg["d"])).astype(np.float32)
    return module, torch.from_numpy(x)
