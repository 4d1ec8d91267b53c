"""Thin wrapper over the `kestrelc` driver for tests and scripts."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def kestrelc_path() -> str:
    """$KESTRELC, else build/bin/kestrelc of this checkout, else the one
    bundled with an installed package (kestrel/bin), else PATH."""
    if "KESTRELC" in os.environ:
        return os.environ["KESTRELC"]
    for local in (REPO / "build" / "bin" / "kestrelc",
                  Path(__file__).with_name("bin") / "kestrelc"):
        if local.exists():
            return str(local)
    found = shutil.which("kestrelc")
    if not found:
        raise FileNotFoundError("kestrelc not found: build it or set KESTRELC")
    return found


class CompileError(RuntimeError):
    """kestrelc failed; the message holds its diagnostics."""


def kestrelc(source: str | os.PathLike, output: str | os.PathLike,
             *flags: str) -> None:
    """Runs kestrelc on a file path or on MLIR text (`source` with a '{')."""
    cmd = [kestrelc_path(), "-o", str(output), *flags]
    text = None
    if isinstance(source, str) and "{" in source:
        text = source
        cmd.append("-")
    else:
        cmd.append(str(source))
    proc = subprocess.run(cmd, input=text, capture_output=True, text=True)
    if proc.returncode != 0:
        raise CompileError(proc.stderr.strip())
