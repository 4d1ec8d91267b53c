"""The GPU denoise_step cases: writes CASE.mlir + CASE.json into a folder
(run here by bench/gpu/stage_denoise.sh; bench/gpu/check_denoise.py reads
the JSON on the device).

    python3 bench/gpu/denoise_cases.py OUT_DIR
"""

import json
import sys
from pathlib import Path

# name: (B, L, V, dtype, attributes, timed). LLaDA-8B's vocabulary is
# 126464 with mask id 126336; Dream / Qwen-based dLLMs use 151936.
CASES = {
    "llada_b4_l256_v126464_bf16_topk": (4, 256, 126464, "bf16",
                                        {"mask_id": 126336, "top_k": 8, "block": (64, 32)}, True),
    "b8_l1024_v32000_f32_threshold": (8, 1024, 32000, "f32",
                                      {"mask_id": 31999, "threshold": 0.9}, True),
    "b2_l2048_v151936_bf16_topk": (2, 2048, 151936, "bf16",
                                   {"mask_id": 151665, "top_k": 64}, True),
    # Numerics: ragged V (scalar loads), f16, ties, sampling.
    "ragged_f16_topk": (3, 100, 1001, "f16", {"mask_id": 7, "top_k": 5, "block": (10, 50)}, False),
    "ties_f32_threshold": (2, 64, 512, "f32", {"mask_id": 3, "threshold": 0.5, "ties": True}, False),
    "sampled_f32_threshold": (2, 24, 300, "f32",
                              {"mask_id": 5, "threshold": 0.3, "temperature": 0.7, "seed": 42}, False),
    "sampled_bf16_topk": (1, 40, 520, "bf16",
                          {"mask_id": 11, "top_k": 3, "block": (8, 24), "temperature": 1.3, "seed": 7}, False),
}


def mlir(B, L, V, dtype, a):
    attrs = f"mask_id = {a['mask_id']}"
    attrs += f" top_k = {a['top_k']}" if "top_k" in a else f" threshold = {a['threshold']}"
    if "block" in a:
        attrs += f" block = [{a['block'][0]}, {a['block'][1]}]"
    if "temperature" in a:
        attrs += f" temperature = {a['temperature']} seed = {a['seed']}"
    lt, tt = f"tensor<{B}x{L}x{V}x{dtype}>", f"tensor<{B}x{L}xi64>"
    return (f"func.func @step(%l: {lt}, %t: {tt}) -> ({tt}, tensor<{B}x{L}xf32>) {{\n"
            f"  %n, %c = kestrel.denoise_step %l, %t {attrs} : {lt}, {tt} -> {tt}, tensor<{B}x{L}xf32>\n"
            f"  return %n, %c : {tt}, tensor<{B}x{L}xf32>\n}}\n")


def main():
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for name, (B, L, V, dtype, a, timed) in CASES.items():
        (out / f"{name}.mlir").write_text(mlir(B, L, V, dtype, a))
        (out / f"{name}.json").write_text(json.dumps(
            {"B": B, "L": L, "V": V, "dtype": dtype, "timed": timed, **a}))
        print(name)


if __name__ == "__main__":
    main()
