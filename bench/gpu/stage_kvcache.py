"""Stages a GPU numerics check of the KV cache ops into .devcarry/kvcache/:
for every case, the PTX + manifest kestrelc makes here, its inputs
(in<i>.npy, NaN past seq_lens and in unused pages, as in
test/numerics/test_kvcache.py) and the NumPy oracle's outputs (want<i>.npy).
bench/gpu/kvcache.sh runs them on the device machine with kestrel-run.

    python3 bench/gpu/stage_kvcache.py [CHIP]     (default sm_90a)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python"))
sys.path.insert(0, str(ROOT / "test" / "numerics"))
from kestrel.reference.kvcache import (decode_attention, page_bounds,  # noqa: E402
                                       select_kv_pages)
from test_kvcache import DECODE, PAGE, decode_mlir, make_cache, ty  # noqa: E402


def main() -> None:
    chip = sys.argv[1] if len(sys.argv) > 1 else "sm_90a"
    out = ROOT / ".devcarry" / "kvcache"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    kestrelc = ROOT / "build" / "bin" / "kestrelc"
    rng = np.random.default_rng(2026)

    def stage(name, mlir, inputs, wants):
        case = out / name
        case.mkdir()
        (case / "case.mlir").write_text(mlir)
        subprocess.run([str(kestrelc), str(case / "case.mlir"),
                        f"--target=cuda:{chip}", "--emit=ptx",
                        "-o", str(case / "case.ptx")], check=True)
        for i, x in enumerate(inputs):
            np.save(case / f"in{i}.npy", x)
        for i, x in enumerate(wants):
            np.save(case / f"want{i}.npy", x)
        print(f"staged {name}")

    for name in ("head_major_gqa_t1", "token_major_gqa_t4", "paged_gqa_t1",
                 "paged_mqa_t4", "mla_latent_t4"):
        layout, B, H, Hkv, T, S, D, Dv = DECODE[name]
        lens = np.array([0, max(T - 2, 1) if T > 1 else 5, S], dtype=np.int32)
        _, _, kc, vc, table = make_cache(rng, layout, B, Hkv, S, D, Dv, lens, "f32")
        q = rng.normal(size=(B, H, T, D)).astype(np.float32)
        kc = kc.astype(np.float32)
        vc = vc.astype(np.float32) if vc is not None else None
        o, lse = decode_attention(q, kc, vc, lens, layout, block_table=table,
                                  page_size=PAGE, value_dim=Dv)
        inputs = [q, kc] + ([vc] if vc is not None else []) + [lens]
        if table is not None:
            inputs.append(table)
        stage("decode_" + name,
              decode_mlir(layout, B, H, Hkv, T, S, D, Dv, kc, vc, table, "f32", True),
              inputs, [o, lse])

    B, H, Hkv, P, D, k = 3, 4, 2, 6, 8, 4
    keys = rng.normal(size=(B, Hkv, P * PAGE, D))
    kmin, kmax = (x.astype(np.float32) for x in page_bounds(keys, PAGE))
    q = rng.normal(size=(B, H, D)).astype(np.float32)
    lens = np.array([0, PAGE * 2 + 1, P * PAGE], dtype=np.int32)
    qt, mt, rt = ty(q.shape, "f32"), ty(kmin.shape, "f32"), ty((B, Hkv, k), "i32")
    stage("select_gqa", f"""
func.func @select(%q: {qt}, %mn: {mt}, %mx: {mt}, %len: tensor<{B}xi32>) -> {rt} {{
  %o = kestrel.select_kv_pages %q, %mn, %mx seq_lens(%len : tensor<{B}xi32>) k = {k} page_size = {PAGE}
      : {qt}, {mt} -> {rt}
  return %o : {rt}
}}""", [q, kmin, kmax, lens], [select_kv_pages(q, kmin, kmax, lens, k, PAGE)])


if __name__ == "__main__":
    main()
