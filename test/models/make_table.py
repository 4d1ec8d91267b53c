"""Writes the model zoo table of docs/models.md from the results the zoo
test recorded (build/test/models/zoo_results.json, written by
test/models/test_zoo.py; KESTREL_ZOO_RESULTS overrides the path):

    python3 -m pytest -q test/models && python3 test/models/make_table.py

Only the text between the zoo-table markers is replaced; nothing in the
table is typed by hand.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DOC = REPO / "docs" / "models.md"
BEGIN, END = "<!-- zoo-table:begin -->", "<!-- zoo-table:end -->"


def _ops(recognized: dict) -> str:
    return ", ".join(f"{op.removeprefix('kestrel.')} ×{n}"
                     for op, n in sorted(recognized.items())) or "none"


def _cuda(r: dict) -> str:
    if r["cuda_rc"] == 0:
        if "ptxas_rc" not in r:
            return "PTX (ptxas not run)"
        return "PTX, ptxas ok" if r["ptxas_rc"] == 0 else "ptxas failed"
    msg = r["cuda_error"].split("error: ", 1)[-1]
    m = re.match(r"(node '[^']*' \([^)]*\)): host operation '([^']*)'", msg)
    return f"refused: {m.group(1)}, host `{m.group(2)}`" if m else \
        f"refused: {msg[:120]}"


def table(results: dict) -> str:
    rows = ["| model | HF class (params) | export | recognized kestrel ops | "
            "max abs err vs ORT (max abs logit) | CPU compile s | "
            "CUDA sm_90a | CUDA compile s |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, r in results.items():
        export = r["export"].replace("experts_implementation=",
                                     "experts=")
        err = (f"{r['max_err']:.1e} ({r['max_abs_ref']:.2f})"
               if r.get("max_err") is not None else "—")
        if r.get("ort_model", f"{name}.onnx") != f"{name}.onnx":
            err += f", vs ORT on {r['ort_model']}"
        rows.append(
            f"| {name} | {r['model']} ({r['params']:,}) | {export} | "
            f"{_ops(r['recognized'])} | {err} | {r['cpu_compile_s']:.1f} | "
            f"{_cuda(r)} | {r['cuda_compile_s']:.1f} |")
    first = json.loads((HERE / f"{next(iter(results))}.export.json")
                       .read_text())
    rows.append("")
    rows.append(f"Exported with transformers {first['transformers']}, torch "
                f"{first['torch']}, onnxscript {first['onnxscript']}; "
                f"input ids {first['input_ids_shape']}. Compile times are "
                "wall seconds of one kestrelc run while the test runs two "
                "at a time.")
    return "\n".join(rows)


def main() -> int:
    path = Path(os.environ.get("KESTREL_ZOO_RESULTS", REPO / "build" / "test"
                               / "models" / "zoo_results.json"))
    if not path.exists():
        print(f"{path} not found: run python3 -m pytest test/models first",
              file=sys.stderr)
        return 1
    results = json.loads(path.read_text())
    text = DOC.read_text()
    if BEGIN not in text or END not in text:
        print(f"{DOC} lacks the {BEGIN} / {END} markers", file=sys.stderr)
        return 1
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    DOC.write_text(f"{head}{BEGIN}\n{table(results)}\n{END}{tail}")
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
