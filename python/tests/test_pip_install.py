"""`pip install ./python` into a fresh virtual environment: the wheel the
build backend (python/kestrel_build.py) writes bundles libKestrelCAPI.so,
kestrelc and kestrel-run, so the installed package compiles and runs a model
with no KESTREL_CAPI_LIB and no checkout on sys.path.

The backend reuses the configured build tree (KESTREL_BUILD_DIR, else
build/): with a warm tree the build step is a no-op and the test takes
about 10-20 s, so it runs in the default suite (docs/testing.md). The venv
sees the system's site-packages for NumPy (no network: --no-index); it is
created without pip, and the checkout's pip installs into it (--python).
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("KESTREL_BUILD_DIR", REPO / "build"))

# RMSNorm (docs/ops.md) then a matmul: a kestrel op and a contraction.
CHECK = textwrap.dedent('''
    import os, sys
    from pathlib import Path
    import numpy as np
    import kestrel
    assert "KESTREL_CAPI_LIB" not in os.environ
    here = Path(kestrel.__file__).resolve().parent
    assert here.is_relative_to(Path(sys.prefix).resolve()), here
    assert (here / "libKestrelCAPI.so").is_file()
    lib = kestrel.compile("""
    func.func @f(%x: tensor<4x32xf32>, %g: tensor<32xf32>, %w: tensor<32x16xf32>) -> tensor<4x16xf32> {
      %n = kestrel.rms_norm %x, %g eps = 1.0e-5 : tensor<4x32xf32>, tensor<32xf32> -> tensor<4x32xf32>
      %z = tensor.empty() : tensor<4x16xf32>
      %c = arith.constant 0.0 : f32
      %i = linalg.fill ins(%c : f32) outs(%z : tensor<4x16xf32>) -> tensor<4x16xf32>
      %y = linalg.matmul ins(%n, %w : tensor<4x32xf32>, tensor<32x16xf32>) outs(%i : tensor<4x16xf32>) -> tensor<4x16xf32>
      return %y : tensor<4x16xf32>
    }
    """, report=True)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 32)).astype(np.float32)
    g = rng.uniform(0.5, 1.5, 32).astype(np.float32)
    w = rng.standard_normal((32, 16)).astype(np.float32)
    (y,) = lib.f(x, g, w)
    x64 = x.astype(np.float64)
    ref = (x64 / np.sqrt((x64 ** 2).mean(-1, keepdims=True) + 1e-5) * g) @ w
    err = np.abs(y - ref).max()
    assert err <= 1e-4, err
    assert "kestrel.rms_norm x1" in lib.report, lib.report
    print("ok", err)
''')


def test_pip_install_into_fresh_venv(tmp_path):
    if not (BUILD / "CMakeCache.txt").is_file():
        pytest.fail(f"{BUILD} is not a configured build: run scripts/build.sh")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip",
                    "--system-site-packages", str(venv)], check=True)
    python = venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items()
           if k not in ("KESTREL_CAPI_LIB", "PYTHONPATH", "KESTRELC")}
    env["KESTREL_BUILD_DIR"] = str(BUILD)
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install",
         "--no-index", "--no-deps", "--no-cache-dir", str(REPO / "python")],
        env=env, capture_output=True, text=True, cwd=tmp_path)
    assert install.returncode == 0, install.stdout + install.stderr
    site = subprocess.run([str(python), "-c", "import sysconfig; "
                           "print(sysconfig.get_paths()['platlib'])"],
                          capture_output=True, text=True, check=True)
    package = Path(site.stdout.strip()) / "kestrel"
    for name in ("libKestrelCAPI.so", "bin/kestrelc", "bin/kestrel-run"):
        assert (package / name).is_file(), name
    assert os.access(package / "bin" / "kestrelc", os.X_OK)
    run = subprocess.run([str(python), "-c", CHECK], env=env, cwd=tmp_path,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith("ok")
    # The console script runs the bundled compiler.
    helptext = subprocess.run([str(venv / "bin" / "kestrelc"), "--help"],
                              env=env, capture_output=True, text=True)
    assert helptext.returncode == 0 and "--report" in helptext.stdout
