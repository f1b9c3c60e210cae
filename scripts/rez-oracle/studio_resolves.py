#!/usr/bin/env python3
"""What real Rez makes of the sample studio's workflows (src/studio).

Generate a studio, then run this with a Python that can import rez:

    tantalus studio generate /tmp/studio --scale small
    /tmp/rezenv/rez-run.sh python scripts/rez-oracle/studio_resolves.py /tmp/studio \
        > src/studio/testdata/rez-resolves.json

For every workflow of DIR/tantalus.yaml this records:

* the resolve with the configuration's implicit_packages (the studio OS), as
  variants in Rez's order: name, version, variant index, root relative to DIR
  and the variant's full requires list;
* whether the request also resolves with Rez's default implicit packages on
  this machine (the host OS);
* the exit code of `launch_app -show=dragon` and of `TOOL --deps` for every
  ELF tool of the resolved packages, run in a real Rez bash shell, i.e. whether
  the package commands' LD_LIBRARY_PATH and RUNPATHs load every library.

`packages_digest` is the sha256 of every package definition file, so tests
can tell when the studio changed and this data must be regenerated.
"""
import hashlib
import json
import os
import subprocess
import sys

from rez.config import config
from rez.resolved_context import ResolvedContext
from rez.vendor import yaml


def packages_digest(repo):
    h = hashlib.sha256()
    for base, dirs, files in sorted(os.walk(repo)):
        dirs.sort()
        for f in sorted(files):
            if f in ("package.py", "package.yaml") or f.startswith(".ignore"):
                p = os.path.join(base, f)
                h.update(os.path.relpath(p, repo).encode() + b"\0")
                with open(p, "rb") as fh:
                    h.update(fh.read())
    return h.hexdigest()


def variant_record(v, studio):
    return {
        "name": v.name,
        "version": str(v.version),
        "index": v.index,
        "root": os.path.relpath(v.root, studio),
        "requires": [str(r) for r in v.get_requires()],
    }


RUN_SCRIPT = r"""
launch_app -show=dragon >/dev/null 2>&1; echo "launch_app $?"
for t in %s; do
  p=$(command -v "$t") || continue
  [ "$(head -c4 "$p" | od -An -c | tr -d ' ')" = "177ELF" ] || continue
  "$t" --deps >/dev/null 2>&1; echo "$t $?"
done
"""


def run_tools(ctx, tools, workflow):
    env = dict(os.environ, TANTALUS_WORKFLOW=workflow)
    p = ctx.execute_shell(
        command=RUN_SCRIPT % " ".join(sorted(set(tools))),
        block=False,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        parent_environ=env,
        text=True,
    )
    out, _ = p.communicate()
    results = {}
    for line in out.splitlines():
        name, _, rc = line.rpartition(" ")
        if name and rc.isdigit():
            results[name] = int(rc)
    return results


def main():
    studio = os.path.abspath(sys.argv[1])
    repo = os.path.join(studio, "packages")
    with open(os.path.join(studio, "tantalus.yaml")) as f:
        cfg = yaml.safe_load(f)
    implicit = cfg.get("implicit_packages") or []
    out = {
        "generator": "scripts/rez-oracle/studio_resolves.py",
        "rez_version": __import__("rez").__version__,
        "host_implicit_packages": [str(x) for x in config.implicit_packages],
        "packages_digest": packages_digest(repo),
        "workflows": {},
    }
    for name, wf in cfg["workflows"].items():
        request = wf["request"]
        ctx = ResolvedContext(request + implicit, package_paths=[repo], add_implicit_packages=False)
        entry = {"request": request, "implicit_packages": implicit, "status": ctx.status.name}
        if ctx.status.name == "solved":
            entry["resolved"] = [variant_record(v, studio) for v in ctx.resolved_packages]
            tools = [t for v in ctx.resolved_packages for t in (v.tools or [])]
            entry["runs"] = run_tools(ctx, tools, name)
        else:
            entry["failure"] = ctx.failure_description
        host = ResolvedContext(request, package_paths=[repo])
        entry["host_default_status"] = host.status.name
        out["workflows"][name] = entry
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
