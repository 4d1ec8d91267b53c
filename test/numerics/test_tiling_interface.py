"""kestrel.rms_norm and kestrel.gated_mlp tiled through the upstream
TilingInterface (transform.structured.tile_using_for / tile_using_forall run
by kestrel-opt's transform interpreter), then compiled for the CPU by
kestrelc and checked against the NumPy oracle
(python/kestrel/reference/support.py).

The tiled IR must still contain the op, now on row slices inside the loops
(checked on the text), and compute what the untiled op computes: the same
tolerances as test_support_ops.py, the oracle in float64 on the same inputs,
|out - expected| <= atol + rtol * |expected| with f32 rtol = atol = 1e-5.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import storage, value_of
from kestrel.compiler import kestrelc_path
from kestrel.reference import support as ref

RTOL = ATOL = 1e-5

SCHEDULE = """
module attributes {{transform.with_named_sequence}} {{
  transform.named_sequence @__transform_main(%root: !transform.any_op {{transform.readonly}}) {{
    %op = transform.structured.match ops{{["{op}"]}} in %root : (!transform.any_op) -> !transform.any_op
    {tiling}
    transform.yield
  }}
}}
"""


def tile(tmp_path: Path, mlir: str, op: str, sizes: list[int],
         forall: bool) -> str:
    """Runs the transform interpreter with a preloaded tiling schedule."""
    handles = ", ".join(["!transform.any_op"] * (1 + (1 if forall else len(sizes))))
    names = "%t, %f" if forall else ", ".join(
        ["%t"] + [f"%l{i}" for i in range(len(sizes))])
    kind = "tile_using_forall" if forall else "tile_using_for"
    tiling = (f"{names} = transform.structured.{kind} %op tile_sizes "
              f"{sizes} : (!transform.any_op) -> ({handles})")
    lib = tmp_path / "schedule.mlir"
    lib.write_text(SCHEDULE.format(op=op, tiling=tiling))
    opt = Path(kestrelc_path()).with_name("kestrel-opt")
    proc = subprocess.run(
        [str(opt), f"--transform-preload-library=transform-library-paths={lib}",
         "--transform-interpreter", "-"],
        input=mlir, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def check(out, expected, dtype="f32"):
    got = value_of(out, dtype)
    assert np.isfinite(got).all()
    excess = np.abs(got - expected) - (ATOL + RTOL * np.abs(expected))
    assert excess.max() <= 0, \
        f"max error {np.abs(got - expected).max():.3g} beyond tolerance"


@pytest.mark.parametrize("shape,sizes,forall", [
    ((4, 6, 32), [2, 3], False),
    ((8, 48), [4], True),
    ((6, 3, 16), [3, 0], True),   # 0: that dimension is not tiled
])
def test_rms_norm_tiled(tmp_path, compile_cpu, shape, sizes, forall):
    rng = np.random.default_rng(sum(shape))
    x, xv = storage(rng.uniform(-2, 2, shape), "f32")
    w, wv = storage(rng.uniform(0.5, 1.5, shape[-1:]), "f32")
    xt = f"tensor<{'x'.join(map(str, shape))}xf32>"
    wt = f"tensor<{shape[-1]}xf32>"
    tiled = tile(tmp_path, f"""
func.func @f(%x: {xt}, %w: {wt}) -> {xt} {{
  %y = kestrel.rms_norm %x, %w eps = 1.0e-05 : {xt}, {wt} -> {xt}
  return %y : {xt}
}}""", "kestrel.rms_norm", sizes, forall)
    assert ("scf.forall" if forall else "scf.for") in tiled
    tile_shape = [s or n for s, n in zip(sizes, shape)] + [shape[-1]]
    tile_type = f"tensor<{'x'.join(map(str, tile_shape))}xf32>"
    assert f"kestrel.rms_norm" in tiled and f"-> {tile_type}" in tiled
    lib = compile_cpu(tiled)
    (out,) = lib.f(x, w)
    check(out, ref.rms_norm(xv, wv, 1e-5))


@pytest.mark.parametrize("n,tile_rows,forall", [(8, 4, True), (6, 2, False)])
def test_gated_mlp_tiled(tmp_path, compile_cpu, n, tile_rows, forall):
    d, ff = 16, 40
    rng = np.random.default_rng(n * 100 + tile_rows)
    x, xv = storage(rng.uniform(-1, 1, (n, d)), "f32")
    w1, w1v = storage(rng.uniform(-0.3, 0.3, (d, ff)), "f32")
    w3, w3v = storage(rng.uniform(-0.3, 0.3, (d, ff)), "f32")
    w2, w2v = storage(rng.uniform(-0.3, 0.3, (ff, d)), "f32")
    xt, wt, w2t = (f"tensor<{n}x{d}xf32>", f"tensor<{d}x{ff}xf32>",
                   f"tensor<{ff}x{d}xf32>")
    tiled = tile(tmp_path, f"""
func.func @f(%x: {xt}, %w1: {wt}, %w3: {wt}, %w2: {w2t}) -> {xt} {{
  %y = kestrel.gated_mlp %x, %w1, %w3, %w2 : {xt}, {wt}, {wt}, {w2t} -> {xt}
  return %y : {xt}
}}""", "kestrel.gated_mlp", [tile_rows], forall)
    assert ("scf.forall" if forall else "scf.for") in tiled
    assert f"-> tensor<{tile_rows}x{d}xf32>" in tiled
    lib = compile_cpu(tiled)
    (out,) = lib.f(x, w1, w3, w2)
    check(out, ref.gated_mlp(xv, w1v, w3v, w2v))
