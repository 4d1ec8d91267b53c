"""Writes the cases of bench/gpu/bench_recurrence.sh as MLIR + case.json into DIR.

    python3 bench/gpu/recurrence_cases.py DIR [all|chunked|delta|vector|states]

Numerics cases (every gate kind, f32 and bf16, H_kv < H, ragged T = 67,
T = 1 decode with a state, Dk = 40 with guarded rows, the Mamba mixer's conv
+ scan, the conv's decode form) and bench cases (fla's shapes; decode
steps). bench/gpu/stage_recurrence.sh compiles each with kestrelc.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

TY = {"f32": "f32", "bf16": "bf16", "f16": "f16"}


def t(shape, dt):
    return "tensor<" + "x".join(str(s) for s in shape) + "x" + TY[dt] + ">"


def recurrence(gate, dt, B, H, Hkv, T, Dk, Dv, init=False, scale=None, sdt=None,
               attrs=None, **extra):
    """One gated_recurrence; `sdt` is the state / log-gate / beta type (f32
    beside bf16 q, k, v, as production models keep them), `attrs` decision
    overrides written on the op (kestrel.chunk, kestrel.value_tile,
    kestrel.recurrence_kernel)."""
    sdt = sdt or dt
    q, k, v = t((B, H, T, Dk), dt), t((B, Hkv, T, Dk), dt), t((B, Hkv, T, Dv), dt)
    o, s = t((B, H, T, Dv), dt), t((B, H, Dk, Dv), sdt)
    args = [f"%q: {q}", f"%k: {k}", f"%v: {v}"]
    parts = []
    if gate in ("scalar", "gated_delta", "vector"):
        gt = t((B, H, T, Dk) if gate == "vector" else (B, H, T), sdt)
        args.append(f"%g: {gt}")
        parts.append(f"log_gate(%g : {gt})")
    if gate in ("delta", "gated_delta"):
        bt = t((B, H, T), sdt)
        args.append(f"%b: {bt}")
        parts.append(f"beta(%b : {bt})")
    if init:
        args.append(f"%s0: {s}")
        parts.append(f"initial_state(%s0 : {s})")
    if scale is not None:
        parts.append(f"scale = {scale}")
    if attrs:
        parts.append("{" + ", ".join(f"{k} = {v}" for k, v in attrs.items()) + "}")
    mlir = (f"func.func @main({', '.join(args)}) -> ({o}, {s}) {{\n"
            f"  %o, %s = kestrel.gated_recurrence %q, %k, %v gate = {gate} "
            f"{' '.join(parts)} : {q}, {k}, {v} -> {o}, {s}\n"
            f"  return %o, %s : {o}, {s}\n}}\n")
    meta = dict(op="rec", gate=gate, dtype=dt, state_dtype=sdt, B=B, H=H, Hkv=Hkv,
                T=T, Dk=Dk, Dv=Dv, init=init, out_dtypes=[dt, sdt], **extra)
    if scale is not None:
        meta["scale"] = scale
    return mlir, meta


def mamba(dt, B, C, T, N, K=4):
    x, w, c = t((B, C, T), dt), t((C, K), dt), t((C,), dt)
    a, bm, d = t((C, N), "f32"), t((B, N, T), dt), t((C,), "f32")
    h0, cs = t((B, C, N), "f32"), t((B, C, K - 1), dt)
    mlir = (f"func.func @main(%x: {x}, %w: {w}, %cb: {c}, %dt: {x}, %a: {a}, "
            f"%bm: {bm}, %cm: {bm}, %d: {d}, %z: {x}, %db: {d}, %h0: {h0}) "
            f"-> ({x}, {cs}, {h0}) {{\n"
            f"  %xc, %cs = kestrel.causal_conv1d %x, %w activation = silu "
            f"bias(%cb : {c}) : {x}, {w} -> {x}, {cs}\n"
            f"  %y, %h = kestrel.selective_scan %xc, %dt, %a, %bm, %cm D(%d : {d}) "
            f"z(%z : {x}) delta_bias(%db : {d}) initial_state(%h0 : {h0}) "
            f"delta_softplus : {x}, {x}, {a}, {bm}, {bm} -> {x}, {h0}\n"
            f"  return %y, %cs, %h : {x}, {cs}, {h0}\n}}\n")
    return mlir, dict(op="mamba", dtype=dt, B=B, C=C, T=T, N=N, K=K,
                      out_dtypes=[dt, dt, "f32"])


def conv_decode(dt, B, C, K=4):
    x, w, s = t((B, C, 1), dt), t((C, K), dt), t((B, C, K - 1), dt)
    mlir = (f"func.func @main(%x: {x}, %w: {w}, %s0: {s}) -> ({x}, {s}) {{\n"
            f"  %y, %s = kestrel.causal_conv1d %x, %w activation = none "
            f"state(%s0 : {s}) : {x}, {w} -> {x}, {s}\n"
            f"  return %y, %s : {x}, {s}\n}}\n")
    return mlir, dict(op="conv", dtype=dt, B=B, C=C, T=1, K=K, out_dtypes=[dt, dt])


def cases():
    c = {}
    for gate in ("none", "scalar", "vector", "delta", "gated_delta"):
        for dt in ("f32", "bf16"):
            c[f"n_{gate}_{dt}_gqa_t67"] = recurrence(
                gate, dt, 2, 4, 2, 67, 64, 64, init=(gate != "none"), scale=0.5)
        c[f"n_{gate}_f32_t1"] = recurrence(gate, "f32", 2, 4, 4, 1, 128, 128, init=True)
    c["n_vector_f16_dk40_t67"] = recurrence("vector", "f16", 1, 2, 1, 67, 40, 24, init=True)
    c["n_gated_delta_bf16_t300"] = recurrence("gated_delta", "bf16", 1, 2, 2, 300, 128, 128)
    c["n_mamba_bf16"] = mamba("bf16", 2, 64, 67, 16)
    c["n_mamba_f32"] = mamba("f32", 1, 48, 33, 16)
    # N > 64: the state split over 4 (N 128) and 8 (N 256) lanes per
    # channel; 50 channels leave the last block's lanes past the end.
    c["n_mamba_f32_n128"] = mamba("f32", 2, 50, 19, 128)
    c["n_mamba_bf16_n256"] = mamba("bf16", 1, 50, 9, 256)
    c["n_conv_decode_f32"] = conv_decode("f32", 2, 64)
    # fla's shapes (bf16 storage: the op needs one storage type today).
    for B, T in ((4, 4096), (1, 16384)):
        for gate in ("scalar", "vector", "gated_delta"):
            c[f"p_{gate}_B{B}_T{T}"] = recurrence(gate, "bf16", B, 16, 16, T, 128, 128,
                                                  bench=True)
    # Decode steps: f32 state (f32 storage), B 32 H 16 D 128: 32 MiB of state.
    for gate in ("scalar", "gated_delta"):
        c[f"d_{gate}_f32_B32"] = recurrence(gate, "f32", 32, 16, 16, 1, 128, 128,
                                            init=True, bench=True, decode=True)
    c["d_gated_delta_bf16_B32"] = recurrence("gated_delta", "bf16", 32, 16, 16, 1, 128,
                                             128, init=True, bench=True, decode=True)
    return c


def chunked_cases():
    """The chunked tensor-core kernel (gate kinds none and scalar, f16/bf16):
    ragged T, GQA, initial state, f32 state and gates, every chunk length
    and Dv tile, the recurrent kernel forced on the same op for agreement;
    fla's shapes with each Dv tile."""
    c = {}
    rec = '"recurrent"'
    split = '"chunked_mma_scores"'
    for gate in ("none", "scalar"):
        for dt in ("bf16", "f16"):
            c[f"c_{gate}_{dt}_gqa_t67"] = recurrence(
                gate, dt, 2, 4, 2, 67, 64, 64, init=True, scale=0.5)
        c[f"c_{gate}_bf16_f32state_t300"] = recurrence(
            gate, "bf16", 1, 4, 2, 300, 128, 128, init=True, sdt="f32", scale=0.25)
        c[f"c_{gate}_bf16_t1_recurrent"] = recurrence(gate, "bf16", 2, 4, 2, 1, 64, 64,
                                                    init=True)
    for C in (32, 128):
        c[f"c_scalar_bf16_chunk{C}_t200"] = recurrence(
            "scalar", "bf16", 1, 2, 1, 200, 128, 64, init=True,
            attrs={"kestrel.chunk": f"#kestrel.chunk<{C}>"})
    for tile in (16, 32):
        c[f"c_scalar_bf16_tile{tile}_t130"] = recurrence(
            "scalar", "bf16", 1, 2, 2, 130, 64, 64, init=True,
            attrs={"kestrel.value_tile": f"{tile} : i64"})
    c["c_scalar_bf16_t130_forced_recurrent"] = recurrence(
        "scalar", "bf16", 1, 2, 2, 130, 64, 64, init=True,
        attrs={"kestrel.recurrence_kernel": rec})
    c["c_scalar_bf16_gqa_t67_twokernels"] = recurrence(
        "scalar", "bf16", 2, 4, 2, 67, 64, 64, init=True, scale=0.5,
        attrs={"kestrel.recurrence_kernel": split})
    c["c_none_f16_chunk32_t300_twokernels"] = recurrence(
        "none", "f16", 1, 4, 2, 300, 128, 64, init=True, sdt="f32",
        attrs={"kestrel.recurrence_kernel": split, "kestrel.chunk": "#kestrel.chunk<32>"})
    c["c_none_bf16_dk256_t100"] = recurrence("none", "bf16", 1, 2, 2, 100, 256, 64,
                                            init=True, scale=0.0625)
    c["c_scalar_bf16_long_t2000"] = recurrence("scalar", "bf16", 1, 2, 2, 2000, 128, 128,
                                              sdt="f32")
    for B, T in ((4, 4096), (1, 16384)):
        c[f"p_scalar_B{B}_T{T}"] = recurrence("scalar", "bf16", B, 16, 16, T, 128, 128,
                                              bench=True)
        for tile in (16, 32, 64):
            c[f"p_scalar_B{B}_T{T}_tile{tile}"] = recurrence(
                "scalar", "bf16", B, 16, 16, T, 128, 128, bench=True,
                attrs={"kestrel.value_tile": f"{tile} : i64"})
        for tile in (0, 16, 32):
            attrs = {"kestrel.recurrence_kernel": split}
            if tile:
                attrs["kestrel.value_tile"] = f"{tile} : i64"
            c[f"p_scalar_B{B}_T{T}_twokernels{'_tile%d' % tile if tile else ''}"] = \
                recurrence("scalar", "bf16", B, 16, 16, T, 128, 128, bench=True,
                           attrs=attrs)
        c[f"p_scalar_B{B}_T{T}_f32state"] = recurrence(
            "scalar", "bf16", B, 16, 16, T, 128, 128, sdt="f32", bench=True)
    return c


def delta_cases():
    """The delta rules' chunked kernels (gate delta / gated_delta: the WY
    kernel, then the walk over V' = U - W S), f16/bf16: ragged T, GQA,
    initial state, f32 state / gates / beta, chunk 32, every Dv tile, two
    kernels, Dk 256, T = 1 (recurrent fallback), the recurrent kernel forced
    on the same op and inputs ("twin": outputs compared with the chunked
    case's too); fla's shapes."""
    c = {}
    rec = '"recurrent"'
    split = '"chunked_mma_scores"'
    for gate in ("delta", "gated_delta"):
        for dt in ("bf16", "f16"):
            c[f"c_{gate}_{dt}_gqa_t67"] = recurrence(
                gate, dt, 2, 4, 2, 67, 64, 64, init=True, scale=0.5)
        c[f"c_{gate}_bf16_f32state_t300"] = recurrence(
            gate, "bf16", 1, 4, 2, 300, 128, 128, init=True, sdt="f32", scale=0.25)
        c[f"c_{gate}_bf16_t1_recurrent"] = recurrence(gate, "bf16", 2, 4, 2, 1, 64, 64,
                                                    init=True)
    c["c_gated_delta_bf16_chunk32_t200"] = recurrence(
        "gated_delta", "bf16", 1, 2, 1, 200, 128, 64, init=True,
        attrs={"kestrel.chunk": "#kestrel.chunk<32>"})
    for tile in (16, 32, 64):
        c[f"c_gated_delta_bf16_tile{tile}_t130"] = recurrence(
            "gated_delta", "bf16", 1, 2, 2, 130, 128, 128, init=True, sdt="f32",
            attrs={"kestrel.value_tile": f"{tile} : i64"})
    c["c_gated_delta_bf16_zforced_recurrent_t130"] = recurrence(
        "gated_delta", "bf16", 1, 2, 2, 130, 128, 128, init=True, sdt="f32",
        twin="c_gated_delta_bf16_tile32_t130",
        attrs={"kestrel.recurrence_kernel": rec, "kestrel.value_tile": "32 : i64"})
    c["c_gated_delta_bf16_gqa_t67_twokernels"] = recurrence(
        "gated_delta", "bf16", 2, 4, 2, 67, 64, 64, init=True, scale=0.5,
        attrs={"kestrel.recurrence_kernel": split})
    c["c_delta_bf16_dk256_t100"] = recurrence("delta", "bf16", 1, 2, 2, 100, 256, 64,
                                             init=True, scale=0.0625)
    c["c_gated_delta_bf16_long_t2000"] = recurrence(
        "gated_delta", "bf16", 1, 2, 2, 2000, 128, 128, sdt="f32")
    for B, T in ((4, 4096), (1, 16384)):
        c[f"p_gated_delta_B{B}_T{T}"] = recurrence("gated_delta", "bf16", B, 16, 16, T,
                                                   128, 128, bench=True)
        c[f"p_gated_delta_B{B}_T{T}_f32state"] = recurrence(
            "gated_delta", "bf16", B, 16, 16, T, 128, 128, sdt="f32", bench=True)
        for tile in (16, 32, 64):
            c[f"p_gated_delta_B{B}_T{T}_tile{tile}"] = recurrence(
                "gated_delta", "bf16", B, 16, 16, T, 128, 128, bench=True,
                attrs={"kestrel.value_tile": f"{tile} : i64"})
        c[f"p_gated_delta_B{B}_T{T}_twokernels"] = recurrence(
            "gated_delta", "bf16", B, 16, 16, T, 128, 128, bench=True,
            attrs={"kestrel.recurrence_kernel": split})
    return c


def vector_cases():
    """The vector gate's chunked kernels (GLA: the chunk_gla kernel, then the
    two-kernel walk), bf16 q/k/v: ragged T, GQA, initial state, f32 state and
    gates, chunk 32 and 128, every Dv tile, Dk 256, a long sequence, T = 1
    and f16 (recurrent fallback), the recurrent kernel forced on the same op
    and inputs ("twin"); fla's shapes (chunk_gla)."""
    c = {}
    rec = '"recurrent"'
    c["c_vector_bf16_gqa_t67"] = recurrence("vector", "bf16", 2, 4, 2, 67, 64, 64,
                                            init=True, scale=0.5)
    c["c_vector_bf16_f32state_t300"] = recurrence(
        "vector", "bf16", 1, 4, 2, 300, 128, 128, init=True, sdt="f32", scale=0.25)
    c["c_vector_bf16_t1_recurrent"] = recurrence("vector", "bf16", 2, 4, 2, 1, 64, 64,
                                                 init=True)
    c["c_vector_f16_gqa_t67_recurrent"] = recurrence("vector", "f16", 2, 4, 2, 67, 64,
                                                     64, init=True, scale=0.5)
    for C in (32, 128):
        c[f"c_vector_bf16_chunk{C}_t200"] = recurrence(
            "vector", "bf16", 1, 2, 1, 200, 128, 64, init=True, sdt="f32",
            attrs={"kestrel.chunk": f"#kestrel.chunk<{C}>"})
    for tile in (16, 32, 64):
        c[f"c_vector_bf16_tile{tile}_t130"] = recurrence(
            "vector", "bf16", 1, 2, 2, 130, 128, 128, init=True, sdt="f32",
            attrs={"kestrel.value_tile": f"{tile} : i64"})
    c["c_vector_bf16_zforced_recurrent_t130"] = recurrence(
        "vector", "bf16", 1, 2, 2, 130, 128, 128, init=True, sdt="f32",
        twin="c_vector_bf16_tile32_t130",
        attrs={"kestrel.recurrence_kernel": rec, "kestrel.value_tile": "32 : i64"})
    c["c_vector_bf16_dk256_t100"] = recurrence("vector", "bf16", 1, 2, 2, 100, 256, 64,
                                              init=True, scale=0.0625)
    c["c_vector_bf16_long_t2000"] = recurrence("vector", "bf16", 1, 2, 2, 2000, 128,
                                              128, sdt="f32")
    for B, T in ((4, 4096), (1, 16384)):
        c[f"p_vector_B{B}_T{T}"] = recurrence("vector", "bf16", B, 16, 16, T, 128, 128,
                                              bench=True)
        c[f"p_vector_B{B}_T{T}_f32state"] = recurrence(
            "vector", "bf16", B, 16, 16, T, 128, 128, sdt="f32", bench=True)
        # The other Dv tile next to the default (32 at B4, 16 at B1).
        tile = 16 if B == 4 else 32
        c[f"p_vector_B{B}_T{T}_tile{tile}"] = recurrence(
            "vector", "bf16", B, 16, 16, T, 128, 128, bench=True,
            attrs={"kestrel.value_tile": f"{tile} : i64"})
    return c


def states_cases():
    """The states form (a walk that only carries the state and stores the
    state entering each chunk, V' too for the delta rules, then the outputs
    of all chunks in parallel): forced on small ops of every gate kind it
    covers (GQA, ragged T, initial state, f16, chunk 32, f32 state), each
    with its twin, the fused kernel forced on the same op and inputs; a long
    ragged sequence over two heads; fla's B1 T16384 shapes and B2 T8192, B4
    T4096 in both forms (the default picks the states form for an f32 state
    over few heads and many chunks; the others force it)."""
    c = {}
    states = '"chunk_states"'
    fused = '"chunked_mma"'
    for gate in ("none", "scalar", "delta", "gated_delta"):
        for dt in ("bf16", "f16"):
            name = f"c_{gate}_{dt}_gqa_t67_states"
            c[name] = recurrence(gate, dt, 2, 4, 2, 67, 64, 64, init=True, scale=0.5,
                                 attrs={"kestrel.recurrence_kernel": states})
            c[name + "_zfused"] = recurrence(
                gate, dt, 2, 4, 2, 67, 64, 64, init=True, scale=0.5, twin=name,
                attrs={"kestrel.recurrence_kernel": fused})
        name = f"c_{gate}_bf16_f32state_chunk32_t300_states"
        c[name] = recurrence(gate, "bf16", 1, 4, 4, 300, 128, 128, init=True,
                             sdt="f32", scale=0.25,
                             attrs={"kestrel.recurrence_kernel": states,
                                    "kestrel.chunk": "#kestrel.chunk<32>"})
        c[name + "_zfused"] = recurrence(
            gate, "bf16", 1, 4, 4, 300, 128, 128, init=True, sdt="f32", scale=0.25,
            twin=name, attrs={"kestrel.recurrence_kernel": fused,
                              "kestrel.chunk": "#kestrel.chunk<32>"})
    # 66 chunks of 64 over 2 heads, ragged.
    for gate in ("scalar", "gated_delta"):
        name = f"c_{gate}_bf16_long_t4200_states"
        c[name] = recurrence(gate, "bf16", 1, 2, 2, 4200, 128, 128, sdt="f32",
                             attrs={"kestrel.recurrence_kernel": states})
        c[name + "_zfused"] = recurrence(
            gate, "bf16", 1, 2, 2, 4200, 128, 128, sdt="f32", twin=name,
            attrs={"kestrel.recurrence_kernel": fused})
    # fla's shapes in both forms; B4 T4096 and B2 T8192 (enough heads to fill
    # the SMs, shorter walks) place where the states form stops paying.
    for gate in ("scalar", "gated_delta"):
        for sdt in ("bf16", "f32"):
            sfx = "_f32state" if sdt == "f32" else ""
            for B, T in ((1, 16384), (2, 8192), (4, 4096)):
                if sdt == "f32" and B != 1:
                    continue
                c[f"p_{gate}_B{B}_T{T}{sfx}"] = recurrence(
                    gate, "bf16", B, 16, 16, T, 128, 128, sdt=sdt, bench=True)
                c[f"p_{gate}_B{B}_T{T}{sfx}_states"] = recurrence(
                    gate, "bf16", B, 16, 16, T, 128, 128, sdt=sdt, bench=True,
                    attrs={"kestrel.recurrence_kernel": states})
                c[f"p_{gate}_B{B}_T{T}{sfx}_fused"] = recurrence(
                    gate, "bf16", B, 16, 16, T, 128, 128, sdt=sdt, bench=True,
                    attrs={"kestrel.recurrence_kernel": fused})
        for tile in (32, 64):
            c[f"p_{gate}_B1_T16384_states_tile{tile}"] = recurrence(
                gate, "bf16", 1, 16, 16, 16384, 128, 128, bench=True,
                attrs={"kestrel.recurrence_kernel": states,
                       "kestrel.value_tile": f"{tile} : i64"})
    return c


def main():
    dest = Path(sys.argv[1])
    which = sys.argv[2] if len(sys.argv) > 2 else "all"
    chosen = {"chunked": chunked_cases, "delta": delta_cases,
              "vector": vector_cases, "states": states_cases}.get(which, cases)()
    for name, (mlir, meta) in chosen.items():
        d = dest / name
        d.mkdir(parents=True, exist_ok=True)
        (d / "case.mlir").write_text(mlir)
        (d / "case.json").write_text(json.dumps(meta))
        print(name)


if __name__ == "__main__":
    main()
