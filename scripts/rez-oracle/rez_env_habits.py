#!/usr/bin/env python3
"""What real Rez does for rez-env's habits: an empty request, --exclude, --patch and the prompt.

Run with Rez importable (Rez is not in CI, so the output is committed):

    /tmp/rezenv/rez-run.sh python scripts/rez-oracle/rez_env_habits.py \
        > test/data/rez-env-habits.json

Over test/fixtures/rez-env-habits (packages written for this test), with no
implicit packages unless said:

* empty: `rez-env` with no package: status, resolve and the REZ_USED_* values
  of the environ (ResolvedContext([]).get_environ(parent_environ={})), with and
  without implicit packages;
* exclude: resolves with `--exclude RULE...` (rez-env adds each rule to the
  package filter with Rule.parse_rule and add_exclusion);
* patch: ResolvedContext(request).get_patched_request(patch, strict, rank), what
  `rez-env --patch` resolves, and that resolve;
* prompt: REZ_ENV_PROMPT and PS1 inside an interactive `rez-env` bash shell
  (run under a pty with `script`, HOME holding a .bashrc that sets PS1), once
  and nested, and with --norc.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

from rez.package_filter import PackageFilterList, Rule
from rez.resolved_context import ResolvedContext
from rez.utils.formatting import PackageRequest
from rez.packages import iter_packages
from rez.utils.sourcecode import SourceCode
from rez.version import Requirement

ROOT = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "fixtures", "rez-env-habits"))
REZ_RUN = "/tmp/rezenv/rez-run.sh"


def names(ctx):
    return [v.qualified_name for v in ctx.resolved_packages] if ctx.status.name == "solved" else None


def empty():
    out = {}
    for implicit in (False, True):
        ctx = ResolvedContext([], package_paths=[ROOT], add_implicit_packages=implicit)
        env = ctx.get_environ(parent_environ={})
        out["implicit" if implicit else "no_implicit"] = {
            "status": ctx.status.name,
            "resolved": names(ctx),
            "environ": {k: env.get(k) for k in ("REZ_USED_REQUEST", "REZ_USED_RESOLVE")},
        }
    return out


EXCLUDE = [
    {"request": ["foo"], "exclude": ["foo-2"]},
    {"request": ["foo"], "exclude": ["*.beta"]},
    {"request": ["foo"], "exclude": ["foo-2.1.0.beta"]},
    {"request": ["foo"], "exclude": ["foo-2+", "foo-1.2"]},
    {"request": ["bar"], "exclude": ["foo-1.2"]},
    {"request": ["foo-2"], "exclude": ["foo-2"]},
]


def exclude():
    out = []
    for case in EXCLUDE:
        f = PackageFilterList()
        for rule in case["exclude"]:
            f.add_exclusion(Rule.parse_rule(rule))
        try:
            ctx = ResolvedContext(case["request"], package_paths=[ROOT], add_implicit_packages=False, package_filter=f)
        except Exception as e:  # noqa: BLE001 - Rez raises for a request nothing satisfies
            out.append(dict(case, status="error", exception=type(e).__name__, message=str(e)))
            continue
        rec = dict(case, status=ctx.status.name, resolved=names(ctx))
        if ctx.status.name != "solved":
            rec["failure"] = ctx.failure_description
        out.append(rec)
    return out


PATCH = [
    {"request": ["bar", "python-3.9"], "patch": ["python-3.11"]},
    {"request": ["bar", "python-3.9"], "patch": ["foo-1.0"]},
    {"request": ["bar", "python-3.9"], "patch": ["^python"]},
    {"request": ["bar", "python-3.9"], "patch": ["!python-3.11", "foo==1.0.0"]},
    {"request": ["bar", "~foo-1.2"], "patch": ["~foo-1.0"]},
    {"request": ["bar", "~foo-1.2"], "patch": ["foo-1.0"]},
    {"request": ["bar-1.0"], "patch": ["python-3.9"], "strict": True},
    {"request": ["bar"], "patch": ["python-3.9"], "rank": 2},
    {"request": ["bar"], "patch": [], "rank": 3},
]


def patch():
    out = []
    for case in PATCH:
        ctx = ResolvedContext(case["request"], package_paths=[ROOT], add_implicit_packages=False)
        reqs = list(case["patch"])
        if case.get("rank", 0) > 1:
            # rez-env passes strings, and Rez 3.4's rank code then raises AttributeError
            # ('str' object has no attribute 'conflict'); the API's PackageRequests show the intent
            reqs = [PackageRequest(r) for r in reqs]
        patched = ctx.get_patched_request(reqs, strict=case.get("strict", False), rank=case.get("rank", 0))
        patched = [str(r) for r in patched]
        new = ResolvedContext(patched, package_paths=[ROOT], add_implicit_packages=False)
        out.append(dict(case, original=names(ctx), patched=patched, resolved=names(new)))
    return out


def prompt():
    out = {}
    home = tempfile.mkdtemp()
    with open(os.path.join(home, ".bashrc"), "w") as f:
        f.write('PS1="user$ "\n')
    env = dict(os.environ, HOME=home, REZ_PACKAGES_PATH=ROOT)
    env.pop("REZ_ENV_PROMPT", None)
    env.pop("REZ_STORED_PROMPT_SH", None)
    env.pop("PS1", None)  # else --norc keeps the caller's exported PS1
    probe = 'echo "@@P=[$REZ_ENV_PROMPT]"; echo "@@PS1=[$PS1]"\n'
    for label, inner in (("once", ""), ("nested", "%s env --ni foo-1\n" % REZ_RUN), ("norc", None)):
        args = "%s env --ni foo-1%s" % (REZ_RUN, " --norc" if inner is None else "")
        script = "sleep 3\n" + ("printf '%s'\nsleep 3\n" % inner.replace("\n", "\\n") if inner else "")
        script += "printf '%s'\nsleep 1\nprintf 'exit\\nexit\\n'\n" % probe.replace("\n", "\\n")
        p = subprocess.run(["bash", "-c", "(%s) | script -qfc '%s' /dev/null" % (script, args)], env=env, capture_output=True, text=True, timeout=60)
        found = dict(re.findall(r"@@(P|PS1)=\[(.*?)\]\r?\n", p.stdout))
        out[label] = {"REZ_ENV_PROMPT": found.get("P"), "PS1": found.get("PS1")}
    return out


VARIANTS = [["tool"], ["tool", "python-3.9"], ["hashed"], ["hashed", "python-3.9"], ["hashed", "python-3.11"], ["hashed", "!python", "foo"], ["bar-1.0"]]


def variants():
    """Structured resolves: name, version, index and root (relative to the fixture), as Rez computes the root
    (hashed variants rooted at their `_v` shortlink when one points at them: use_variant_shortlinks, default True)."""
    out = []
    for request in VARIANTS:
        ctx = ResolvedContext(request, package_paths=[ROOT], add_implicit_packages=False)
        out.append({
            "request": request,
            "variants": [
                {"name": v.name, "version": str(v.version), "index": v.index, "root": os.path.relpath(v.root, ROOT)}
                for v in ctx.resolved_packages
            ],
        })
    return out


LATE = [["latefacts"], ["latefacts", "python-3.9"]]


def late():
    """What `this` is in a @late function that commands read (environ of the resolve, no parent environ)."""
    out = []
    for request in LATE:
        ctx = ResolvedContext(request, package_paths=[ROOT], add_implicit_packages=False)
        env = ctx.get_environ(parent_environ={})
        # str(this) names the repository: recorded as <root>
        out.append({"request": request, "LATE_FACTS": env.get("LATE_FACTS").replace(ROOT, "<root>"), "LATE_SHOUT": env.get("LATE_SHOUT")})
    return out


INFO = ["latetools", "latefacts", "hashed", "bar-1.0"]


def encode(v):
    if isinstance(v, SourceCode):
        return {"$function": v.funcname, "late": bool(v.late_binding)}
    if isinstance(v, (bool, int, float, str)) or v is None:
        return v
    if isinstance(v, (list, tuple)):
        return [encode(x) for x in v]
    if isinstance(v, dict):
        return {str(k): encode(x) for k, x in v.items()}
    return str(v)


def info():
    """What `rez view -a` shows of the latest package in range (validated_data, with 'base'), and
    the package's tools as read outside a context (a @late tools function evaluated)."""
    out = []
    for spec in INFO:
        req = Requirement(spec)
        pkg = sorted(iter_packages(req.name, range_=req.range, paths=[ROOT]), key=lambda p: p.version)[-1]
        data = pkg.validated_data()
        data.pop("config", None)
        attrs = {k: encode(v) for k, v in data.items()}
        attrs["base"] = os.path.relpath(attrs["base"], ROOT)
        out.append({"request": spec, "attributes": attrs, "tools": encode(pkg.tools)})
    return out


def main():
    json.dump({"rez": __import__("rez").__version__, "use_variant_shortlinks": __import__("rez.config").config.config.use_variant_shortlinks,
               "variants": variants(), "late": late(), "info": info(), "empty": empty(), "exclude": exclude(), "patch": patch(), "prompt": prompt()}, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
