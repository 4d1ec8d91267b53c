"""PEP 517 build backend of the `kestrel` Python package.

`pip install ./python` (or `pip install .` at the repository root) calls
`build_wheel` here. It builds the compiler's C API library
(libKestrelCAPI.so), the tools kestrelc and kestrel-run and, where CMake
configured it, the runtime library libKestrelRuntimeC.so with CMake, then
writes a wheel holding the package with those files beside it
(kestrel/libKestrelCAPI.so, kestrel/bin/kestrelc, ...), so that an installed
package needs no KESTREL_CAPI_LIB.

The build directory is, in this order: the config setting `build-dir`
(`pip install ./python --config-settings=build-dir=/path/to/build`), the
environment variable KESTREL_BUILD_DIR (the one scripts/build.sh reads),
else `build/` at the repository root. A directory CMake already configured
is only brought up to date (`cmake --build DIR --target ...`: a no-op for a
warm tree, so CI does not build twice); an empty or missing one is
configured and built by scripts/build.sh (Ninja, ccache, LLVM/MLIR 22).

The backend needs nothing but the standard library (no setuptools, wheel or
scikit-build-core), so the build runs offline in pip's isolated environment.
The wheel links the libMLIR.so / libLLVM.so it was built against (by
absolute RUNPATH): it is for the machine or image that built it, not a
portable manylinux wheel. docs/python.md describes installing.
"""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

_HERE = Path(__file__).resolve().parent  # python/
_ROOT = _HERE.parent  # the repository root (CMakeLists.txt)
_NAME, _VERSION = "kestrel", "0.1.0"
_TARGETS = ["KestrelCAPI", "kestrelc", "kestrel-run"]
# (file in the build directory, path in the wheel, required)
_ARTIFACTS = [("lib/libKestrelCAPI.so", "kestrel/libKestrelCAPI.so", True),
              ("lib/libKestrelRuntimeC.so", "kestrel/libKestrelRuntimeC.so",
               False),
              ("bin/kestrelc", "kestrel/bin/kestrelc", True),
              ("bin/kestrel-run", "kestrel/bin/kestrel-run", True)]

_METADATA = f"""Metadata-Version: 2.1
Name: {_NAME}
Version: {_VERSION}
Summary: Python API of the Kestrel compiler for efficient LLM architectures
Requires-Python: >=3.9
Requires-Dist: numpy
Provides-Extra: torch
Requires-Dist: torch; extra == "torch"
Requires-Dist: onnx; extra == "torch"
"""

_ENTRY_POINTS = """[console_scripts]
kestrelc = kestrel._tools:kestrelc
kestrel-run = kestrel._tools:kestrel_run
"""


def _log(message: str) -> None:
    print(f"kestrel_build: {message}", file=sys.stderr, flush=True)


def _build_dir(config_settings) -> Path:
    setting = (config_settings or {}).get("build-dir")
    chosen = setting or os.environ.get("KESTREL_BUILD_DIR") or _ROOT / "build"
    return Path(chosen).expanduser().resolve()


def _has_target(build: Path, target: str) -> bool:
    ninja = build / "build.ninja"
    if ninja.is_file():
        return f"build {target}:" in ninja.read_text(errors="replace")
    return (build / "lib" / f"lib{target}.so").exists()


def _build(build: Path) -> None:
    """Brings the CMake targets the wheel bundles up to date in `build`."""
    # The build's output goes to stderr: pip shows it with -v, and stdout
    # stays free for the PEP 517 hook's protocol.
    if not (build / "CMakeCache.txt").is_file():
        _log(f"configuring and building {build} (scripts/build.sh)")
        subprocess.run([str(_ROOT / "scripts" / "build.sh"), *_TARGETS],
                       check=True, stdout=sys.stderr,
                       env={**os.environ, "KESTREL_BUILD_DIR": str(build)})
    else:
        _log(f"reusing the configured build {build}")
    targets = list(_TARGETS)
    if _has_target(build, "KestrelRuntimeC"):
        targets.append("KestrelRuntimeC")
    cmd = ["cmake", "--build", str(build), "--target", *targets]
    if os.environ.get("KESTREL_JOBS"):
        cmd += ["-j", os.environ["KESTREL_JOBS"]]
    # As scripts/build.sh: paths under the checkout are hashed relative to
    # it, so this build shares ccache entries with every other checkout.
    env = {**os.environ, "CCACHE_BASEDIR": os.environ.get("CCACHE_BASEDIR",
                                                          str(_ROOT))}
    subprocess.run(cmd, check=True, stdout=sys.stderr, env=env)


def _python_files():
    package = _HERE / "kestrel"
    for path in sorted(package.rglob("*.py")):
        if "__pycache__" not in path.parts:
            yield path, path.relative_to(_HERE).as_posix()


def _tag() -> str:
    platform = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    return f"py3-none-{platform}"


class _Wheel:
    """A wheel being written: files, then the .dist-info with its RECORD."""

    def __init__(self, path: Path):
        self.zip = zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED)
        self.records: list[str] = []

    def add(self, name: str, data: bytes, executable: bool = False) -> None:
        info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        # A regular file (S_IFREG) with its permissions: pip keeps the
        # executable bit only for those.
        info.external_attr = (0o100755 if executable else 0o100644) << 16
        self.zip.writestr(info, data)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest())
        self.records.append(f"{name},sha256={digest.rstrip(b'=').decode()},"
                            f"{len(data)}")

    def close(self, dist_info: str) -> None:
        self.records.append(f"{dist_info}/RECORD,,")
        self.zip.writestr(f"{dist_info}/RECORD", "\n".join(self.records) + "\n")
        self.zip.close()


def _dist_info_files(tag: str) -> dict[str, str]:
    return {"METADATA": _METADATA,
            "WHEEL": ("Wheel-Version: 1.0\nGenerator: kestrel_build\n"
                      f"Root-Is-Purelib: false\nTag: {tag}\n"),
            "entry_points.txt": _ENTRY_POINTS}


def _write_wheel(wheel_directory: str, files) -> str:
    tag = _tag()
    name = f"{_NAME}-{_VERSION}-{tag}.whl"
    dist_info = f"{_NAME}-{_VERSION}.dist-info"
    wheel = _Wheel(Path(wheel_directory) / name)
    for arcname, data, executable in files:
        wheel.add(arcname, data, executable)
    for leaf, text in _dist_info_files(tag).items():
        wheel.add(f"{dist_info}/{leaf}", text.encode())
    wheel.close(dist_info)
    return name


# --- PEP 517 / PEP 660 hooks -------------------------------------------------

def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    dist_info = Path(metadata_directory) / f"{_NAME}-{_VERSION}.dist-info"
    dist_info.mkdir(parents=True, exist_ok=True)
    for leaf, text in _dist_info_files(_tag()).items():
        (dist_info / leaf).write_text(text)
    return dist_info.name


prepare_metadata_for_build_editable = prepare_metadata_for_build_wheel


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    build = _build_dir(config_settings)
    _build(build)
    files = [(arc, path.read_bytes(), False) for path, arc in _python_files()]
    for rel, arc, required in _ARTIFACTS:
        path = build / rel
        if not path.is_file():
            if required:
                raise FileNotFoundError(f"{path} was not built")
            _log(f"{rel} not built (no CUDA toolkit?): left out")
            continue
        files.append((arc, path.read_bytes(), arc.startswith("kestrel/bin/")))
    _log(f"bundled {', '.join(a for a, _, _ in files if not a.endswith('.py'))}")
    return _write_wheel(wheel_directory, files)


def build_editable(wheel_directory, config_settings=None,
                   metadata_directory=None):
    """`pip install -e ./python`: a .pth file puts python/ on sys.path; the
    package then finds the libraries in the build tree of this checkout
    (build/ or $KESTREL_CAPI_LIB), as in the source tree."""
    _build(_build_dir(config_settings))
    pth = (str(_HERE) + "\n").encode()
    return _write_wheel(wheel_directory, [("kestrel_editable.pth", pth, False)])
