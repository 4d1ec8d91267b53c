#!/usr/bin/env bash
# GPU benchmark of the sparse MoE path (kestrel-gpu-moe): runs ON the device
# machine from a tree staged by bench/gpu/stage_moe.sh. bench/gpu/
# moe_profile.sh on that layout: builds the runtime and kestrel-run, then
# bench/gpu/check_moe.py on ../moe (numerics of every case against a
# float64 reference of docs/ops.md; the issue-16 shapes timed beside torch
# eager and a dense torch GEMM of the same active FLOPs), then the exported
# Mixtral block through bench/gpu/check_models.py beside torch eager.
# Writes tables and logs to $OUT (or bench-out/).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MOE_CASES=$ROOT/../moe exec bash "$ROOT/bench/gpu/moe_profile.sh"
