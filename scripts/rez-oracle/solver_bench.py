#!/usr/bin/env python3
"""Times Rez's own solver on some of the benchmark requests.

    /tmp/rezenv/rez-run.sh python scripts/rez-oracle/solver_bench.py \
        <packages dir> <requests.json> <index>[,<index>...]

Resolves each request as `rez-benchmark` does (ResolvedContext, implicit
packages off), once untimed to load the packages it touches, then once timed.
Prints one JSON object: per-request seconds, status and resolve, so the caller
can compare both the speed and the answer.
"""
import json
import sys
import time


def main():
    repo, requests_file, indices = sys.argv[1], sys.argv[2], sys.argv[3]
    from rez.resolved_context import ResolvedContext

    with open(requests_file) as f:
        requests = json.load(f)
    chosen = [int(x) for x in indices.split(",") if x]

    def resolve(req):
        return ResolvedContext(package_requests=req, package_paths=[repo],
                               add_implicit_packages=False)

    for i in chosen:  # warm: load every package these requests reach
        resolve(requests[i])

    out = []
    for i in chosen:
        t = time.time()
        ctx = resolve(requests[i])
        secs = time.time() - t
        status = ctx.status.name
        resolved = [v.qualified_name for v in ctx.resolved_packages] if status == "solved" else None
        out.append({"index": i, "seconds": secs, "status": status, "resolved": resolved})
    json.dump({"rez": out}, sys.stdout)


if __name__ == "__main__":
    main()
