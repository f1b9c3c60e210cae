#!/usr/bin/env python3
"""Record what real Rez makes of package definitions that only CPython loads
(subprocess in @early, open() of a file next to the package, a site module on
PYTHONPATH, exec_command / exec_python, commands() using subprocess or a site
module, an @late function importing a site module), for test/fixtures/cpython,
which Tantalus loads with `python: cpython`.

Run with Rez importable (Rez is not in CI, so the output is committed):

    /tmp/rezenv/rez-run.sh python scripts/rez-oracle/cpython_packages.py

The site module (test/fixtures/cpython/site) is put on PYTHONPATH, as a studio
puts its own modules where Rez runs. For each package it records the
attributes Rez's loader returns (encoded as in package_definitions.py), for
each request in CONTEXTS the resolve and the environment
(`ResolvedContext.get_environ(parent_environ={})`, REZ_* variables left out)
and what info() printed, and for each file in broken/ the error Rez raised.
Paths under the fixture directory are written as @ROOT@.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", "test", "fixtures", "cpython"))
REPO = os.path.join(ROOT, "packages")
SITE = os.path.join(ROOT, "site")
BROKEN = os.path.join(ROOT, "broken")
OUT = os.path.join(ROOT, "rez-recorded.json")

sys.path.insert(0, SITE)
os.environ["PYTHONPATH"] = SITE + os.pathsep + os.environ.get("PYTHONPATH", "")
os.environ["REZ_PACKAGES_PATH"] = REPO

from rez.serialise import load_from_file, FileFormat  # noqa: E402
from rez.resolved_context import ResolvedContext  # noqa: E402
import package_definitions  # noqa: E402  (beside this script)

CONTEXTS = ["subproc==1.0", "readfile==2.1", "sitemod==1.0", "execcmd==1.0", "laterequires==1.0", "runtime_refusal==1.0"]


def scrub(s):
    return s.replace(ROOT, "@ROOT@")


def encode(v):
    # package_definitions.py's encoding, with fixture paths as @ROOT@ in strings and in the repr of other objects.
    def walk(x):
        if isinstance(x, dict):
            return dict((k, scrub(y) if k == "$repr" else walk(y)) for k, y in x.items())
        if isinstance(x, list):
            return [walk(y) for y in x]
        return x
    return walk(package_definitions.encode(v, scrub))


def main():
    out = {"packages": {}, "contexts": {}, "broken": {}}
    for dirpath, _dirs, files in sorted(os.walk(REPO)):
        if "package.py" not in files:
            continue
        path = os.path.join(dirpath, "package.py")
        rel = os.path.relpath(path, REPO)
        data = dict(load_from_file(path, FileFormat.py, disable_memcache=True))
        out["packages"][rel] = {"attributes": [[k, encode(v)] for k, v in data.items()]}
    for request in CONTEXTS:
        ctx = ResolvedContext([request], package_paths=[REPO])
        if ctx.status.name != "solved":
            out["contexts"][request] = {"failure": scrub(ctx.failure_description)}
            continue
        environ = ctx.get_environ(parent_environ={})
        out["contexts"][request] = {
            "resolve": [v.qualified_name for v in ctx.resolved_packages],
            "environ": {k: scrub(v) for k, v in sorted(environ.items()) if not k.startswith("REZ_")},
        }
    for f in sorted(os.listdir(BROKEN)):
        path = os.path.join(BROKEN, f)
        try:
            load_from_file(path, FileFormat.py, disable_memcache=True)
            out["broken"][f] = {"rez": "loaded"}
        except Exception as e:  # noqa: BLE001
            first = scrub(str(e)).splitlines()[0]
            out["broken"][f] = {"rez": "%s: %s" % (type(e).__name__, first)}
    with open(OUT + ".tmp", "w") as fh:
        json.dump(out, fh, indent=1, ensure_ascii=False, sort_keys=True)
        fh.write("\n")
    os.rename(OUT + ".tmp", OUT)


if __name__ == "__main__":
    main()
