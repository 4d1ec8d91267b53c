"""Runs one timed kestrel.moe case once (after one warm-up call), for
`ncu --kernel-name ... --launch-skip 1` to measure its kernels:

    ncu --kernel-name moe_kernel_0 --launch-skip 1 --launch-count 1 \
        python3 bench/gpu/ncu_moe_once.py DIR/CASE.json
"""

import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python"))
import kestrel  # noqa: E402
from check_moe import make_inputs  # noqa: E402

js = Path(sys.argv[1])
gen = torch.Generator(device="cuda")
gen.manual_seed(0)
ins = make_inputs(json.loads(js.read_text()), gen)
mod = kestrel.load_cuda(js.with_suffix(".manifest"))
for _ in range(2):
    mod.moe(*ins)
torch.cuda.synchronize()
