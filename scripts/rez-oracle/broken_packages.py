#!/usr/bin/env python3
"""What real Rez does when a resolve reaches a package definition that fails to load.

Run with Rez importable (Rez is not in CI, so the output is committed):

    /tmp/rezenv/rez-run.sh python scripts/rez-oracle/broken_packages.py \
        > test/data/rez-broken-packages.json

The packages are test/fixtures/broken-packages (written for this test: a
broken newer version, an invalid variant list, a family whose every version
fails, an invalid requirement string). Each request is solved with Rez's
Solver (no implicit packages) and recorded as either the resolved variants in
order, a solver failure, or the exception Rez raises, with the definition file
Rez was loading when it raised (from the solver's package_load_callback: Rez
raises while loading, so the last package it started to load is the culprit).
src/solver/broken-packages.test.ts checks Tantalus against this.
"""
import json
import os
import sys

from rez.package_filter import PackageFilterList
from rez.solver import Solver, SolverStatus
from rez.version import Requirement

ROOT = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "fixtures", "broken-packages"))

CASES = [
    {"request": ["foo"]},
    {"request": ["foo-1"]},
    {"request": ["foo-2"]},
    {"request": ["foo<2"]},
    {"request": ["foo==1.0.0"]},
    {"request": ["~foo"]},
    {"request": ["!foo"]},
    {"request": ["usesfoo"]},
    {"request": ["usesfooany"]},
    {"request": ["foo-1", "usesfooany"]},
    {"request": ["usesfooany", "foo-1"]},
    {"request": ["weakfoo"]},
    {"request": ["weakfoo", "foo-1"]},
    {"request": ["foo"], "excludes": ["foo-2"]},
    {"request": ["bar"]},
    {"request": ["bar-1"]},
    {"request": ["maya"]},
    {"request": ["maya-2024"]},
    {"request": ["maya-2025"]},
    {"request": ["mayatool"]},
    {"request": ["mayatool-2"]},
    {"request": ["badreq"]},
    # a `name` that disagrees with the directory: Rez uses the directory and loads it
    {"request": ["misname"]},
]


def run(case):
    loading = []
    pfilter = None
    if case.get("excludes"):
        pfilter = PackageFilterList.from_pod([{"excludes": case["excludes"]}])
    try:
        solver = Solver(
            [Requirement(r) for r in case["request"]],
            [ROOT],
            package_filter=pfilter,
            package_load_callback=lambda pkg: loading.append(pkg.uri),
        )
        solver.solve()
    except Exception as e:  # noqa: BLE001 - recording what Rez raises is the point
        return {
            "outcome": "error",
            "exception": type(e).__name__,
            # the fixture root is machine-specific: recorded as <root>
            "message": str(e).splitlines()[0].replace(ROOT, "<root>") if str(e) else "",
            "loading": os.path.relpath(loading[-1], ROOT) if loading else None,
        }
    if solver.status == SolverStatus.solved:
        return {"outcome": "solved", "resolved": [v.variant.qualified_name for v in solver.resolved_packages]}
    return {"outcome": "failed", "description": solver.failure_description()}


def main():
    out = [dict(case, **run(case)) for case in CASES]
    json.dump({"rez": __import__("rez").__version__, "cases": out}, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
