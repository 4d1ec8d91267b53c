"""Stages the split-KV decode benchmark (bench/gpu/decode.sh) into
DEST/.devcarry/decode/:

  cases/<name>/case.{mlir,ptx,manifest,json}   compiled here by kestrelc
  src/                                         runtime + kestrel-run sources
                                               and bench/gpu (committed state)

Inputs are drawn on the device (the caches are 256 MiB each, too big to
carry). case.json says how: shapes, layout, page size, seq_lens rule.

    python3 bench/gpu/stage_decode.py [--dest CHECKOUT] [--chip sm_90a]
    run(carry=[".devcarry/decode"], command=
        "cd .devcarry/decode/src && CASES=$PWD/../cases bash bench/gpu/decode.sh")
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# name: layout, page, B, H, Hkv, T, S, D, dtype, lens, lse, append
#   lens "full": every row holds S tokens (the bandwidth cases);
#   "ragged": 0, 1, 17, S-1, S and values in between (numerics of masks,
#   empty splits, partial tiles and pages).
CASES = {
    "contig_t1":         ("head_major", 0, 8, 32, 8, 1, 16384, 128, "bf16", "full", False),
    "paged16_t1":        ("paged", 16, 8, 32, 8, 1, 16384, 128, "bf16", "full", False),
    "paged64_t1":        ("paged", 64, 8, 32, 8, 1, 16384, 128, "bf16", "full", False),
    "token_major_t1":    ("token_major", 0, 8, 32, 8, 1, 16384, 128, "bf16", "full", False),
    "contig_t4":         ("head_major", 0, 8, 32, 8, 4, 16384, 128, "bf16", "full", False),
    "paged16_t8":        ("paged", 16, 8, 32, 8, 8, 16384, 128, "bf16", "full", False),
    # S = 16000 is not a multiple of the 1024-key split (16 splits, the
    # last of 640 keys); paged by 16 it is 1000 pages.
    "contig_ragged_s16000_t3": ("head_major", 0, 8, 32, 8, 3, 16000, 128, "bf16", "ragged", True),
    "paged16_ragged_s16000_t1": ("paged", 16, 8, 32, 8, 1, 16000, 128, "bf16", "ragged", True),
    "paged64_ragged_t2_f16_d64": ("paged", 64, 4, 16, 2, 2, 4032, 64, "f16", "ragged", True),
    # MLA latent [c_kv ; k_r] with d_c = 128, d_r = 64 (D = 576 of DeepSeek-V2
    # does not fit the kernel's shared tiles and takes the reference path).
    "mla_latent_t1":     ("mla_latent", 0, 4, 16, 1, 1, 4096, 192, "bf16", "ragged", True),
}
# Variants of a case through the op's tuning attributes: other split sizes
# (kestrel.split_keys; the default is 1024 keys here) and register prefetch
# of the next tile on or off (kestrel.decode_prefetch; default on for at
# most 8 rows per KV group, i.e. on at T = 1, off at T = 4).
VARIANTS = {
    "contig_t1": ["split_keys = 256", "split_keys = 512", "split_keys = 2048",
                  "split_keys = 4096", "decode_prefetch = false"],
    "paged16_t1": ["split_keys = 512", "split_keys = 2048", "decode_prefetch = false"],
    "contig_t4": ["decode_prefetch = true"],
}
# kv_append: name: layout, page, B, Hkv, Tn, S, D, dtype
APPENDS = {
    "append_head_major": ("head_major", 0, 8, 8, 4, 1024, 128, "bf16"),
    "append_paged16": ("paged", 16, 8, 8, 5, 1024, 128, "bf16"),
}

MLA_DV = 128


def ty(shape, dtype):
    return "tensor<" + "x".join(str(d) for d in shape) + f"x{dtype}>"


def cache_shape(layout, page, B, Hkv, S, D):
    if layout == "head_major":
        return (B, Hkv, S, D)
    if layout == "token_major":
        return (B, S, Hkv, D)
    if layout == "mla_latent":
        return (B, S, D)
    # paged: every row's pages plus 8 spare ones, shuffled on the device.
    return (B * (S // page) + 8, page, Hkv, D)


def layout_attr(layout, page):
    return f"#kestrel.kv_layout<paged, page_size = {page}>" if layout == "paged" \
        else f"#kestrel.kv_layout<{layout}>"


def decode_case(layout, page, B, H, Hkv, T, S, D, dtype, lens, lse):
    Dv = MLA_DV if layout == "mla_latent" else D
    qt = ty((B, H, T, D), dtype)
    kt = ty(cache_shape(layout, page, B, Hkv, S, D), dtype)
    ot = ty((B, H, T, Dv), dtype)
    lt = ty((B, H, T), "f32")
    has_v = layout != "mla_latent"
    args = [f"%q: {qt}", f"%k: {kt}"] + ([f"%v: {kt}"] if has_v else []) + \
        [f"%len: tensor<{B}xi32>"]
    bt = ""
    if layout == "paged":
        M = S // page
        args.append(f"%bt: tensor<{B}x{M}xi32>")
        bt = f" block_table(%bt : tensor<{B}x{M}xi32>)"
    results = f"{ot}, {lt}" if lse else ot
    names = "%o, %l" if lse else "%o"
    types = f"{qt}, {kt}" + (f", {kt}" if has_v else "")
    return f"""func.func @decode({', '.join(args)}) -> ({results}) {{
  {names} = kestrel.decode_attention %q, %k{', %v' if has_v else ''} layout = {layout_attr(layout, page)}
      seq_lens(%len : tensor<{B}xi32>){bt}
      : {types} -> {results}
  return {names} : {results}
}}
"""


def append_case(layout, page, B, Hkv, Tn, S, D, dtype):
    nt = ty((B, Hkv, Tn, D), dtype)
    ct = ty(cache_shape(layout, page, B, Hkv, S, D), dtype)
    args = [f"%n: {nt}", f"%c: {ct}", f"%pos: tensor<{B}xi32>"]
    bt = ""
    if layout == "paged":
        M = S // page
        args.append(f"%bt: tensor<{B}x{M}xi32>")
        bt = f" block_table(%bt : tensor<{B}x{M}xi32>)"
    return f"""func.func @append({', '.join(args)}) -> {ct} {{
  %o = kestrel.kv_append %n into %c layout = {layout_attr(layout, page)}
      positions(%pos : tensor<{B}xi32>){bt} : {nt} into {ct}
  return %o : {ct}
}}
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dest", default=str(ROOT), help="checkout to stage into")
    ap.add_argument("--chip", default="sm_90a")
    ap.add_argument("--kestrelc", default=str(ROOT / "build" / "bin" / "kestrelc"))
    ap.add_argument("--small", action="store_true",
                    help="shrink S (for a dry run of the bench scripts)")
    args = ap.parse_args()
    if args.small:
        for name, c in CASES.items():
            S = 15 * c[1] if c[0] == "paged" else 256 if c[6] % 1024 == 0 else 250
            CASES[name] = c[:6] + (S,) + c[7:]
        for name, c in APPENDS.items():
            APPENDS[name] = c[:5] + (128,) + c[6:]
    dest = Path(args.dest).resolve() / ".devcarry" / "decode"
    shutil.rmtree(dest, ignore_errors=True)
    (dest / "cases").mkdir(parents=True)
    ptxas = shutil.which("ptxas") or "/usr/local/cuda/bin/ptxas"

    def stage(name, mlir, meta):
        case = dest / "cases" / name
        case.mkdir()
        (case / "case.mlir").write_text(mlir)
        (case / "case.json").write_text(json.dumps(meta, indent=1))
        subprocess.run([args.kestrelc, str(case / "case.mlir"),
                        f"--target=cuda:{args.chip}", "--emit=ptx",
                        "-o", str(case / "case.ptx")], check=True)
        if Path(ptxas).exists():  # fail here, not on the device
            subprocess.run([ptxas, f"-arch={args.chip}", str(case / "case.ptx"),
                            "-o", "/dev/null"], check=True)
        print(f"staged {name}")

    for name, c in CASES.items():
        layout, page, B, H, Hkv, T, S, D, dtype, lens, lse = c
        stage(name, decode_case(layout, page, B, H, Hkv, T, S, D, dtype, lens, lse),
              dict(kind="decode", layout=layout, page=page, B=B, H=H, Hkv=Hkv,
                   T=T, S=S, D=D, Dv=MLA_DV if layout == "mla_latent" else D,
                   dtype=dtype, lens=lens, lse=lse))
    for base, attrs in VARIANTS.items():
        layout, page, B, H, Hkv, T, S, D, dtype, lens, lse = CASES[base]
        for attr in attrs:
            key, value = (w.strip() for w in attr.split("="))
            mlir = decode_case(layout, page, B, H, Hkv, T, S, D, dtype, lens, lse)
            mlir = mlir.replace("\n      : ", f" {{kestrel.{attr}}}\n      : ", 1)
            suffix = {"split_keys": f"split{value}",
                      "decode_prefetch": f"prefetch_{value}"}[key]
            stage(f"{base}_{suffix}", mlir,
                  dict(kind="decode", layout=layout, page=page, B=B, H=H, Hkv=Hkv,
                       T=T, S=S, D=D, Dv=D, dtype=dtype, lens=lens, lse=lse,
                       variant=attr))
    for name, c in APPENDS.items():
        layout, page, B, Hkv, Tn, S, D, dtype = c
        stage(name, append_case(*c),
              dict(kind="append", layout=layout, page=page, B=B, Hkv=Hkv,
                   Tn=Tn, S=S, D=D, dtype=dtype))

    # Committed state only: what is staged is what a commit hash names.
    (dest / "src").mkdir()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "HEAD", "lib/Runtime",
         "include/kestrel/Runtime", "include/kestrel-c", "tools/kestrel-run",
         "bench/gpu"], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest / "src")], input=archive,
                   check=True)
    rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                         capture_output=True, text=True).stdout.strip()
    (dest / "REVISION").write_text(rev + "\n")
    print(f"staged {rev} into {dest}")


if __name__ == "__main__":
    main()
