#!/usr/bin/env python3
"""Runs cases.py with CPython and writes oracle.json (run from this directory).

The expected values are CPython's own: repr(result), or the exception's type
name and str(). Re-run after editing cases.py; commit both files.
"""
import json
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
from cases import CASES  # noqa: E402

out = []
for name, code in CASES:
    g = {}
    entry = {"name": name, "code": code}
    try:
        exec(compile(code, "case.py", "exec"), g)
        entry["repr"] = repr(g.get("result"))
    except Exception as e:  # noqa: BLE001
        entry["error"] = {"type": type(e).__name__, "message": str(e)}
    out.append(entry)

with open(os.path.join(here, "oracle.json"), "w", encoding="utf-8") as f:
    json.dump({"python": sys.version.split()[0], "cases": out}, f, indent=1, ensure_ascii=False)
    f.write("\n")
print("wrote %d cases" % len(out))
