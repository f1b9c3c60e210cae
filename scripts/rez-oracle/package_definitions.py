#!/usr/bin/env python3
"""Record what Rez loads from each package definition in test/fixtures/packages.

Run with Rez importable (Rez is not in CI, so the output is committed):

    /tmp/rezenv/rez-run.sh python scripts/rez-oracle/package_definitions.py

For every package.py / package.yaml it records the data Rez's loader returns
(`rez.serialise.load_from_file`: module executed, @early functions evaluated,
plain functions and __ names dropped), with `description`/`changelog` after
Rez's schema conversion (dedent + strip), and whether Rez's package schema
accepts the data. Functions Rez keeps (rex code, @late) are recorded as
{"$function": name, "late": bool}; tuples as {"$tuple": [...]}; floats as
{"$float": repr}; ModifyList as {"$ModifyList": {...}}.
src/rez/definition/rez-parity.test.ts compares Tantalus's
PackageDefinition.attributes with this.
"""
import json
import os
import sys
from textwrap import dedent

from rez.serialise import load_from_file, FileFormat
from rez.package_resources import package_pod_schema
from rez.utils.sourcecode import SourceCode
from rez.utils.data_utils import ModifyList

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "fixtures", "packages")


def encode(v, text=lambda s: s):
    """Rez's loaded value as JSON; `text` rewrites strings (python_constructs.py writes fixture paths as @ROOT@)."""
    if isinstance(v, ModifyList):
        return {"$ModifyList": {"append": encode(v.append, text), "prepend": encode(v.prepend, text)}}
    if isinstance(v, SourceCode):
        return {"$function": v.funcname, "late": bool(v.late_binding)}
    if callable(v) and hasattr(v, "__name__"):
        return {"$function": v.__name__, "late": hasattr(v, "_late")}
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, str):
        return text(v)
    if isinstance(v, int):
        return v if abs(v) < 2 ** 53 else {"$int": str(v)}
    if isinstance(v, float):
        return {"$float": repr(v)}
    if isinstance(v, tuple):
        return {"$tuple": [encode(x, text) for x in v]}
    if isinstance(v, list):
        return [encode(x, text) for x in v]
    if isinstance(v, set):
        return {"$set": sorted(encode(x, text) for x in v)}
    if isinstance(v, dict):
        return {"$dict": [[encode(k, text), encode(x, text)] for k, x in v.items()]}
    return {"$repr": repr(v)}


def main():
    out = {}
    for dirpath, _dirs, files in sorted(os.walk(ROOT)):
        for f in sorted(files):
            if f not in ("package.py", "package.yaml"):
                continue
            path = os.path.join(dirpath, f)
            rel = os.path.relpath(path, ROOT)
            fmt = FileFormat.py if f.endswith(".py") else FileFormat.yaml
            data = load_from_file(path, fmt, disable_memcache=True) if "disable_memcache" in load_from_file.__code__.co_varnames else load_from_file(path, fmt)
            data = dict(data)
            try:
                package_pod_schema.validate(dict(data))
                schema = "ok"
            except Exception as e:  # noqa: BLE001
                schema = "%s: %s" % (type(e).__name__, str(e).splitlines()[0])
            for key in ("description", "changelog"):
                if isinstance(data.get(key), str):
                    data[key] = dedent(data[key]).strip()
            out[rel] = {"attributes": [[k, encode(v)] for k, v in data.items()], "schema": schema}
    json.dump(out, sys.stdout, indent=1, ensure_ascii=False, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
