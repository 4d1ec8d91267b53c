"""On the GPU machine: kestrel.load_cuda runs compiled attention PTX on torch
CUDA tensors through the runtime's C API, checked against float64 SDPA.

    python3 bench/gpu/python_api.py .devcarry/attention
"""

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python"))
import kestrel  # noqa: E402

cases = sorted(Path(sys.argv[1]).glob("*.manifest"))
for manifest in cases:
    mod = kestrel.load_cuda(manifest)
    (name, fn), = mod.info.functions.items()
    torch.manual_seed(0)
    inputs = [torch.rand(s.shape, device="cuda") * 2 - 1 for s in fn.inputs]
    (out,) = getattr(mod, name)(*inputs)
    q, k, v = (t.double() for t in inputs)
    g = q.shape[1] // k.shape[1]
    k, v = k.repeat_interleave(g, 1), v.repeat_interleave(g, 1)
    T, S = q.shape[2], k.shape[2]
    window = 256 if "window" in manifest.name else None
    t = torch.arange(T, device="cuda")[:, None] + (S - T)
    s = torch.arange(S, device="cuda")[None, :]
    mask = s <= t
    if window:
        mask &= (s > t - window) | (s < 4)
    ref = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    err = (out.double() - ref).abs().max().item()
    print(f"{manifest.stem}: kestrel.load_cuda on torch tensors, max error {err:.2e}",
          "ok" if err < 1e-5 else "FAILED")
