#!/usr/bin/env python3
"""Record what real Rez makes of the Python constructs package definitions use
(imports of platform, os, sys, ast, json and rez.* modules, globals(), locals(), private
names through `this`, `this.x = ...` in commands) and of broken files (TabError,
syntax errors), for test/fixtures/python-constructs.

Run with Rez importable (Rez is not in CI, so the output is committed):

    /tmp/rezenv/rez-run.sh python scripts/rez-oracle/python_constructs.py

Host queries answer differently on every machine, so the script also records
what this host answered (platform.*, sys.*, rez's system, the working directory
and the two environment variables the fixtures read). The test hands those
answers to Tantalus's evaluator as its host: it checks that Tantalus evaluates
the same code to the same values given the same host, and it exercises the hook
that lets a configured target platform answer instead of the host.

For each package it records the attributes Rez's loader returns (encoded as in
package_definitions.py), and for the packages in CONTEXTS the environment of
`name==version` resolved against the fixture repository
(`ResolvedContext.get_environ(parent_environ={})`, REZ_* variables left out).
For each file in broken/ it records the exception Rez raised while loading.
Paths under the fixture directory are written as @ROOT@.
"""
import json
import os
import platform
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", "test", "fixtures", "python-constructs"))
REPO = os.path.join(ROOT, "packages")
BROKEN = os.path.join(ROOT, "broken")
OUT = os.path.join(ROOT, "rez-recorded.json")

# The environment the fixtures read; everything else they ask for is unset.
os.environ["HOME"] = "/home/rez-oracle"
os.environ["TANTALUS_ORACLE_VAR"] = "oracle-value"
os.environ.pop("TANTALUS_ORACLE_MISSING", None)
os.environ.pop("TANTALUS_ORACLE_LIST", None)
os.environ["REZ_PACKAGES_PATH"] = REPO
os.chdir(REPO)

from rez.serialise import load_from_file, FileFormat  # noqa: E402
from rez.resolved_context import ResolvedContext  # noqa: E402
from rez.system import system  # noqa: E402
import package_definitions  # noqa: E402  (beside this script)

CONTEXTS = ["hostplatform==1.0", "linthelper==1.0", "osmodule==1.0", "namespace==1.0", "regex==1.0", "localsidiom==1.0", "processenv==1.0"]


def scrub(s):
    return s.replace(ROOT, "@ROOT@")


def encode(v):
    # package_definitions.py's encoding (as rez-parity.test.ts reads it), with fixture paths as @ROOT@.
    return package_definitions.encode(v, scrub)


def main():
    vi = sys.version_info
    out = {
        "host": {
            "system": platform.system(),
            "machine": platform.machine(),
            "release": platform.release(),
            "node": platform.node(),
            "version": platform.version(),
            "processor": platform.processor(),
            "sys_platform": sys.platform,
            "python": [vi.major, vi.minor, vi.micro, vi.releaselevel, vi.serial],
            "python_version": sys.version,
            "rez_system": {"platform": system.platform, "arch": system.arch, "os": system.os},
            "environ": {k: os.environ[k] for k in ("HOME", "TANTALUS_ORACLE_VAR")},
            "cwd": scrub(os.getcwd()),
        },
        "packages": {},
        "contexts": {},
        "broken": {},
    }
    for dirpath, _dirs, files in sorted(os.walk(REPO)):
        if "package.py" not in files:
            continue
        path = os.path.join(dirpath, "package.py")
        rel = os.path.relpath(path, REPO)
        try:
            data = dict(load_from_file(path, FileFormat.py, disable_memcache=True))
            out["packages"][rel] = {"attributes": [[k, encode(v)] for k, v in data.items()]}
        except Exception as e:  # noqa: BLE001
            out["packages"][rel] = {"error": "%s: %s" % (type(e).__name__, scrub(str(e)))}
    for request in CONTEXTS:
        ctx = ResolvedContext([request], package_paths=[REPO])
        if ctx.status.name != "solved":
            out["contexts"][request] = {"failure": scrub(ctx.failure_description)}
            continue
        environ = ctx.get_environ(parent_environ={})
        out["contexts"][request] = {
            "resolve": [v.qualified_name for v in ctx.resolved_packages],
            "environ": {k: scrub(v) for k, v in sorted(environ.items()) if not k.startswith("REZ_") and k != "PATH"},
        }
    for f in sorted(os.listdir(BROKEN)):
        path = os.path.join(BROKEN, f)
        try:
            compile(open(path).read(), path, "exec")
            out["broken"][f] = {"loaded": True}
        except SyntaxError as e:
            out["broken"][f] = {"type": type(e).__name__, "line": e.lineno, "message": e.msg}
        try:
            load_from_file(path, FileFormat.py, disable_memcache=True)
            out["broken"][f]["rez"] = "loaded"
        except Exception as e:  # noqa: BLE001
            out["broken"][f]["rez"] = "%s: %s" % (type(e).__name__, scrub(str(e)).splitlines()[0])
    with open(OUT + ".tmp", "w") as fh:
        json.dump(out, fh, indent=1, ensure_ascii=False, sort_keys=True)
        fh.write("\n")
    os.rename(OUT + ".tmp", OUT)


if __name__ == "__main__":
    main()
