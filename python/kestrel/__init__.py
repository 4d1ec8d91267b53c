"""Kestrel: an MLIR-based graph compiler for efficient LLM architectures.

This package holds the Python side of Kestrel: loading and calling compiled
CPU libraries (`kestrel.runtime`), the compiler driver wrapper
(`kestrel.compiler`) and independent NumPy reference implementations of every
op (`kestrel.reference`), which the test suite uses as its oracle.
"""

from kestrel.runtime import CpuLibrary, Manifest  # noqa: F401
