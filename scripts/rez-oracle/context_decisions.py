#!/usr/bin/env python3
"""Record what a Rez context (.rxt) keeps of what decided its resolve besides the
request (package_filter, package_orderers, platform/arch/os), for
test/fixtures/context-decisions, and whether Rez reads the same back from a
.rxt that Tantalus wrote.

Run with Rez importable and Tantalus built (npx tsc -p tsconfig.json); Rez is
not in CI, so the output (rez-recorded.json, rez-context.rxt.json) is committed:

    /tmp/rezenv/rez-run.sh python scripts/rez-oracle/context_decisions.py

1. `ResolvedContext(["tool"])` against the fixture repository under the
   fixture's rezconfig.py (a package_filter and a package_orderers): the
   resolve and the fields of its .rxt (`to_dict()`), and the whole .rxt with
   the fixture path written as @ROOT@ and the machine's user and host
   replaced, for the import test.
2. `tantalus resolve tool --rxt FILE` under the same rezconfig.py, then
   `ResolvedContext.load(FILE)` in Rez: what Rez reads of the filter, the
   orderers, the system and the resolve, and the environment it interprets.
"""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT = os.path.normpath(os.path.join(HERE, "..", ".."))
ROOT = os.path.join(PROJECT, "test", "fixtures", "context-decisions")
REPO = os.path.join(ROOT, "packages")
CONFIG = os.path.join(ROOT, "rezconfig.py")
OUT = os.path.join(ROOT, "rez-recorded.json")
RXT_OUT = os.path.join(ROOT, "rez-context.rxt.json")
REQUEST = ["tool"]

# The fixture's settings on top of whatever rez-run.sh configures (Rez reads a path list).
os.environ["REZ_CONFIG_FILE"] = os.pathsep.join(x for x in [os.environ.get("REZ_CONFIG_FILE"), CONFIG] if x)
os.environ["REZ_PACKAGES_PATH"] = REPO

from rez.resolved_context import ResolvedContext  # noqa: E402


def scrub(v):
    if isinstance(v, str):
        return v.replace(ROOT, "@ROOT@")
    if isinstance(v, list):
        return [scrub(x) for x in v]
    if isinstance(v, dict):
        return {k: scrub(x) for k, x in v.items()}
    return v


def decisions(ctx):
    d = ctx.to_dict()
    return {
        "status": d["status"],
        "resolved": [v.qualified_name for v in ctx.resolved_packages or []],
        "package_filter": d["package_filter"],
        "package_orderers": d["package_orderers"],
        "platform": d["platform"],
        "arch": d["arch"],
        "os": d["os"],
    }


def main():
    out = {}
    ctx = ResolvedContext(REQUEST, package_paths=[REPO])
    out["rez"] = decisions(ctx)
    rxt = scrub(ctx.to_dict())
    rxt["user"] = "rez-oracle"
    rxt["host"] = "rez-oracle-host"

    with tempfile.TemporaryDirectory() as tmp:
        written = os.path.join(tmp, "tantalus.rxt")
        env = {k: v for k, v in os.environ.items() if not k.startswith("TANTALUS_")}
        env.update({"TANTALUS_SITE_CONFIG": "", "TANTALUS_NO_CACHE": "1", "HOME": tmp})
        p = subprocess.run(
            [
                "node",
                os.path.join(PROJECT, "bin", "tantalus.js"),
                "resolve",
                *REQUEST,
                "--paths",
                REPO,
                "--rxt",
                written,
                "-o",
                os.path.join(tmp, "lock.json"),
            ],
            cwd=tmp,
            env=env,
            capture_output=True,
            text=True,
        )
        if p.returncode != 0:
            sys.exit("tantalus resolve failed: " + p.stderr)
        loaded = ResolvedContext.load(written)
        read = decisions(loaded)
        read["package_filter_read"] = loaded.package_filter.to_pod()
        read["package_orderers_read"] = loaded.package_orderers.to_pod() if loaded.package_orderers else None
        read["environ"] = {
            k: v for k, v in sorted(loaded.get_environ(parent_environ={}).items()) if k == "LIB_VERSION"
        }
        out["rez_reads_tantalus_rxt"] = read

    for path, data in ((OUT, out), (RXT_OUT, rxt)):
        with open(path + ".tmp", "w") as fh:
            json.dump(data, fh, indent=1, sort_keys=True)
            fh.write("\n")
        os.rename(path + ".tmp", path)


if __name__ == "__main__":
    main()
