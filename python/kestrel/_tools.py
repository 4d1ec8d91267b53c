"""Console scripts of an installed package: `kestrelc` and `kestrel-run` on
PATH run the binaries bundled in kestrel/bin (python/kestrel_build.py)."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def _exec(name: str) -> None:
    binary = Path(__file__).with_name("bin") / name
    if not binary.is_file():
        sys.exit(f"{name} is not bundled with this kestrel package "
                 "(installed from the source tree without a build?)")
    os.execv(str(binary), [str(binary), *sys.argv[1:]])


def kestrelc() -> None:
    _exec("kestrelc")


def kestrel_run() -> None:
    _exec("kestrel-run")
