#!/usr/bin/env python3
"""Differential-test oracle for Tantalus's solver.

Generates random package repositories and requests, resolves each one with
Rez's own Solver, and writes the cases with Rez's answers as JSON. Run it with
a Python that can import rez (rez from source):

    /tmp/rezenv/rez-run.sh python scripts/rez-oracle/solver_random.py \
        --count 2000 --seed 1 --out /tmp/solver-cases.json

`node --import tsx bench/solver-diff.ts /tmp/solver-cases.json` then runs
Tantalus's solver on the same cases and lists every disagreement.

The repositories are deliberately awkward: versions with alpha tokens, leading
zeros and differing lengths; weak, conflict and ephemeral requirements; ranges
naming versions that do not exist; missing families; duplicate variants;
cycles; build requirements; timestamp filters, package filters and orderers.
"""
import argparse
import json
import os
import random
import shutil
import sys
import time

FAMILY_POOL = ["a", "b", "c", "d", "e", "f", "g", "py", "lib_x", "x.y", "Zed", "n1", "k", "m"]
MISSING_POOL = ["nope", "gone"]
EPHEMERAL_POOL = [".eph", ".mode"]
VERSION_POOL = [
    "1", "1.0", "1.0.0", "1.2", "1.2.a", "1.2.3", "1.2.10", "1.10", "2", "2.0", "2.0.1",
    "2.1", "3", "3.0.0.beta", "01", "1a", "1A", "1_1", "10", "0.9", "1.00", "alpha",
    "1.0.0.beta", "2.5", "4", "4.1.2", "5", "0",
]


class Gen(object):
    def __init__(self, rnd, Version, VersionRange):
        self.r = rnd
        # per-case knobs, set by generate_case: how often requirements name
        # missing families / versions, and how often they are weak or conflicts
        self.p_missing = 0.02
        self.p_exists = 0.85
        self.p_special = 0.17
        self.p_back = 0.1
        self.Version = Version
        self.VersionRange = VersionRange

    def pick_versions(self, n):
        """n distinct (by Rez equality) versions."""
        out = []
        seen = set()
        pool = VERSION_POOL[:]
        self.r.shuffle(pool)
        for s in pool:
            v = self.Version(s)
            key = tuple(str(t) for t in v.tokens)
            if key in seen:
                continue
            seen.add(key)
            out.append(s)
            if len(out) == n:
                break
        return out

    def version_for(self, fam_versions):
        # mostly existing versions, sometimes any from the pool (may not exist)
        if fam_versions and self.r.random() < self.p_exists:
            return self.r.choice(fam_versions)
        return self.r.choice(VERSION_POOL)

    def range_str(self, fam_versions):
        r = self.r
        V = self.Version
        if r.random() > self.p_special * 3:
            form = r.choice(["", "", "", "sup", "ge", "ge", "lt", "span"])
        else:
            form = r.choice(["", "sup", "sup", "eq", "ge", "gt", "lt", "le", "span",
                             "dots", "or", "at", "revpip", "gtlt"])
        v1 = self.version_for(fam_versions)
        v2 = self.version_for(fam_versions)
        lo, hi = (v1, v2) if V(v1) <= V(v2) else (v2, v1)
        if form == "":
            return ""
        if form == "sup":
            return "-" + v1
        if form == "at":
            return "@" + v1
        if form == "eq":
            return "==" + v1
        if form == "ge":
            return r.choice(["-" + v1 + "+", ">=" + v1])
        if form == "gt":
            return ">" + v1
        if form == "lt":
            return "<" + v1
        if form == "le":
            return "<=" + v1
        if form == "span":
            if V(lo) == V(hi):
                return "-" + lo
            return "-" + lo + "+<" + hi
        if form == "dots":
            return "-" + lo + ".." + hi
        if form == "or":
            return "-" + v1 + "|" + v2
        if form == "revpip":
            if V(lo) == V(hi):
                return "==" + lo
            return "<" + hi + ",>=" + lo
        if form == "gtlt":
            if V(lo) == V(hi):
                return ">=" + lo
            return ">" + lo + "<" + hi
        return ""

    def requirement(self, families, versions_of, allow_special=True, self_name=None, in_request=False):
        r = self.r
        if allow_special and r.random() < 0.04:
            name = r.choice(EPHEMERAL_POOL)
            # Rez's package schema rejects '!.x' in a package; only a request may hold it
            prefix = "!" if in_request and r.random() < 0.2 else ""
            return prefix + name + self.range_str(["1", "2", "1.5"])
        x = r.random()
        if x < self.p_missing:
            name = r.choice(MISSING_POOL)
        elif self_name is not None and x < self.p_missing + 0.003:
            name = self_name
        elif self_name is not None and r.random() > self.p_back:
            # mostly a layered repository: packages require families listed later
            later = families[families.index(self_name) + 1:]
            if not later:
                return None
            name = r.choice(later)
        else:
            name = r.choice(families)
        if in_request and r.random() < 0.5:
            rng = ""
        else:
            rng = self.range_str(versions_of.get(name, []))
        y = r.random()
        if allow_special and y < self.p_special * 0.6:
            return "~" + name + rng
        if allow_special and y < self.p_special:
            return "!" + name + rng
        return name + rng

    def safe_requirement(self, Requirement, *args, **kwargs):
        for _ in range(50):
            s = self.requirement(*args, **kwargs)
            if s is None:
                return None
            try:
                Requirement(s)
                return s
            except Exception:
                continue
        raise RuntimeError("could not generate a valid requirement")


def generate_case(gen, Requirement, big=False, deep=False):
    r = gen.r
    chaos = r.random() * (0.25 if deep else 1.0)
    gen.p_missing = 0.05 * chaos
    gen.p_exists = 0.95 - 0.25 * chaos
    gen.p_special = 0.05 + 0.15 * chaos
    gen.p_back = 0.15 * chaos
    if deep:
        # many versions of many families with version-specific requirements:
        # solves that backtrack through many phases
        pool = FAMILY_POOL[:]
        r.shuffle(pool)
        families = pool[:r.randint(8, 13)]
        versions_of = {f: gen.pick_versions(r.randint(3, 9)) for f in families}
        packages = {}
        for f in families:
            pkgs = []
            later = families[families.index(f) + 1:]
            for v in versions_of[f]:
                pkg = {"version": v, "timestamp": r.randint(1000, 2000)}
                reqs = []
                for g in r.sample(later, min(len(later), r.choice([0, 1, 2, 2, 3]))):
                    reqs.append(g + gen.range_str(versions_of[g]))
                pkg["requires"] = [q for q in reqs if valid(Requirement, q)]
                if later and r.random() < 0.35:
                    g = r.choice(later)
                    pkg["variants"] = [[g + gen.range_str(versions_of[g])] for _ in range(r.randint(2, 3))]
                    pkg["variants"] = [vr for vr in pkg["variants"] if valid(Requirement, vr[0])]
                    if not pkg["variants"] or any(Requirement(q).name == g for q in pkg["requires"]):
                        del pkg["variants"]
                pkgs.append(pkg)
            packages[f] = pkgs
        request = [r.choice(families[:4])] + [f for f in r.sample(families, r.randint(1, 3))]
        request = list(dict.fromkeys(request))
        options = {}
        if r.random() < 0.2:
            options["orderers"] = random_orderers(r, families, versions_of)
        return {"packages": packages, "request": request, "options": options}
    nfam = r.randint(3, 12 if big else 8)
    families = r.sample(FAMILY_POOL, nfam)
    versions_of = {}
    for f in families:
        versions_of[f] = gen.pick_versions(r.randint(1, 10 if big else 6))

    packages = {}
    for f in families:
        pkgs = []
        for v in versions_of[f]:
            pkg = {"version": v}
            nreq = r.choice([0, 0, 1, 1, 2, 2, 3])
            reqs = []
            for _ in range(nreq):
                q = gen.safe_requirement(Requirement, families, versions_of, True, f)
                if q is None:
                    continue
                # a family twice in one list merges, or is an internal conflict: keep it rare
                if any(Requirement(q).name == Requirement(o).name for o in reqs) and r.random() < 0.8:
                    continue
                reqs.append(q)
            pkg["requires"] = reqs
            if r.random() < 0.4:
                nvar = r.randint(1, 4)
                variants = []
                for _ in range(nvar):
                    if variants and r.random() < 0.15:
                        variants.append(list(r.choice(variants)))  # duplicate variant
                        continue
                    k = r.choice([0, 1, 1, 1, 2])
                    vreqs = []
                    for _ in range(k):
                        q = gen.safe_requirement(Requirement, families, versions_of, r.random() < 0.3, f)
                        if q is None:
                            continue
                        taken = [Requirement(o).name for o in reqs + vreqs]
                        if Requirement(q).name in taken and r.random() < 0.9:
                            continue
                        vreqs.append(q)
                    variants.append(vreqs)
                pkg["variants"] = variants
            if r.random() < 0.2:
                q = gen.safe_requirement(Requirement, families, versions_of, True, f)
                if q is not None:
                    pkg["build_requires"] = [q]
            if r.random() < 0.9:
                pkg["timestamp"] = r.randint(1000, 2000)
            pkgs.append(pkg)
        packages[f] = pkgs

    nreq = r.randint(1, 4)
    request = [gen.safe_requirement(Requirement, families, versions_of, True, in_request=True)
               for _ in range(nreq)]

    options = {}
    if r.random() < 0.15:
        options["building"] = True
    if r.random() < 0.1:
        options["timestamp"] = r.randint(1000, 2000)
    if r.random() < 0.12:
        options["packageFilter"] = random_filter(r, families, versions_of)
    if r.random() < 0.25:
        options["orderers"] = random_orderers(r, families, versions_of)
    if r.random() < 0.05:
        options["maxFails"] = r.randint(1, 3)
    return {"packages": packages, "request": request, "options": options}


def valid(Requirement, s):
    try:
        Requirement(s)
        return True
    except Exception:
        return False


def random_rule(r, families, versions_of):
    f = r.choice(families)
    kind = r.choice(["glob", "globplain", "regex", "range", "rangeplain", "before", "after", "afterfam"])
    vs = versions_of[f]
    v = r.choice(vs)
    if kind == "glob":
        return "glob(%s-%s*)" % (f, v[:1])
    if kind == "globplain":
        return "*.beta" if r.random() < 0.5 else "%s-*" % f
    if kind == "regex":
        return "regex(%s-%s.*)" % (f, v[:1])
    if kind == "range":
        return "range(%s-%s+)" % (f, v)
    if kind == "rangeplain":
        return "%s-%s" % (f, v)
    if kind == "before":
        return "before(%d)" % r.randint(1000, 2000)
    if kind == "after":
        return "after(%d)" % r.randint(1000, 2000)
    return "after(%s:%d)" % (f, r.randint(1000, 2000))


def random_filter(r, families, versions_of):
    out = []
    for _ in range(r.randint(1, 2)):
        d = {"excludes": [random_rule(r, families, versions_of) for _ in range(r.randint(1, 2))]}
        if r.random() < 0.5:
            d["includes"] = [random_rule(r, families, versions_of)]
        out.append(d)
    return out


def random_orderer(r, families, versions_of, allow_per_family=True):
    kind = r.choice(["sorted", "version_split", "soft_timestamp", "soft_timestamp_rank", "no_order"]
                    + (["per_family"] if allow_per_family else []))
    pk = None
    if r.random() < 0.7:
        pk = r.sample(families, r.randint(1, min(2, len(families))))
    if kind == "sorted":
        d = {"type": "sorted", "descending": r.random() < 0.4}
    elif kind == "version_split":
        f = pk[0] if pk else r.choice(families)
        d = {"type": "version_split", "first_version": r.choice(versions_of[f] + VERSION_POOL[:5])}
    elif kind == "soft_timestamp":
        d = {"type": "soft_timestamp", "timestamp": r.randint(1000, 2000), "rank": 0}
    elif kind == "soft_timestamp_rank":
        d = {"type": "soft_timestamp", "timestamp": r.randint(1000, 2000), "rank": r.randint(1, 3)}
    elif kind == "no_order":
        d = {"type": "no_order"}
    else:
        d = {"type": "per_family",
             "orderers": [dict(random_orderer(r, families, versions_of, False), packages=[f])
                          for f in r.sample(families, r.randint(1, min(2, len(families))))]}
        if r.random() < 0.5:
            d["default_order"] = {"type": "sorted", "descending": r.random() < 0.5}
        return d
    if pk is not None:
        d["packages"] = pk
    return d


def random_orderers(r, families, versions_of):
    return [random_orderer(r, families, versions_of) for _ in range(r.randint(1, 2))]


def write_repo(root, packages):
    for fam, pkgs in packages.items():
        for pkg in pkgs:
            d = os.path.join(root, fam, pkg["version"])
            os.makedirs(d)
            lines = ["name = %r" % fam, "version = %r" % pkg["version"]]
            for key in ("requires", "variants", "build_requires", "timestamp"):
                if key in pkg and (pkg[key] or key == "timestamp"):
                    lines.append("%s = %r" % (key, pkg[key]))
            lines.append("format_version = 2")
            with open(os.path.join(d, "package.py"), "w") as f:
                f.write("\n".join(lines) + "\n")


def solve_with_rez(case, repo):
    from rez.config import config
    from rez.solver import Solver, SolverStatus, SolverCallbackReturn
    from rez.version import Requirement
    from rez.package_filter import PackageFilterList, TimestampRule
    from rez.package_order import PackageOrderList
    from rez.packages import iter_packages

    config.override("packages_path", [repo])
    opts = case["options"]
    out = {}
    try:
        reqs = [Requirement(s) for s in case["request"]]
        pf = None
        if "packageFilter" in opts:
            pf = PackageFilterList.from_pod(opts["packageFilter"])
        if opts.get("timestamp"):
            pf = pf.copy() if pf else PackageFilterList()
            pf.add_exclusion(TimestampRule.after(opts["timestamp"]))
        orderers = None
        if "orderers" in opts:
            orderers = PackageOrderList.from_pod(opts["orderers"])

        callback = None
        max_fails = opts.get("maxFails", -1)
        if max_fails != -1:
            def callback(state):
                if state.num_fails >= max_fails:
                    return (SolverCallbackReturn.fail,
                            "fail limit reached: aborted after %d failures" % state.num_fails)
                return (SolverCallbackReturn.keep_going, '')

        solver = Solver(package_requests=reqs, package_paths=[repo], package_filter=pf,
                        package_orderers=orderers, building=bool(opts.get("building")),
                        callback=callback)
        solver.solve()
        st = solver.status
        out["steps"] = solver.num_solves
        if st == SolverStatus.solved:
            out["status"] = "solved"
            out["resolved"] = [str(v) for v in solver.resolved_packages]
            out["ephemerals"] = [str(e) for e in solver.resolved_ephemerals]
        elif st == SolverStatus.failed:
            out["status"] = "failed"
            out["cyclic"] = solver.cyclic_fail
            out["failureDescription"] = solver.failure_description()
            out["numFails"] = solver.num_fails
        else:
            out["status"] = "aborted"
            out["failureDescription"] = solver.abort_reason
    except Exception as e:
        out = {"status": "error", "errorType": e.__class__.__name__, "errorMessage": str(e)}
    # the order Rez lists each family in (os.listdir order): it decides the
    # order of reductions in an unsorted slice, hence failure texts
    listing = {}
    for fam in case["packages"]:
        listing[fam] = [str(p.version) for p in iter_packages(fam, paths=[repo])]
    return out, listing


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True)
    ap.add_argument("--workdir", default="/tmp/solver-oracle")
    ap.add_argument("--big", action="store_true", help="larger repositories")
    ap.add_argument("--deep", action="store_true", help="repositories that make the solver backtrack")
    ap.add_argument("--replay", help="instead of generating, run Rez on the cases of this JSON file "
                    "(each with id, packages, request, options) and record its answers")
    args = ap.parse_args()

    from rez.version import Version, VersionRange, Requirement

    rnd = random.Random(args.seed)
    gen = Gen(rnd, Version, VersionRange)
    work = os.path.join(args.workdir, "s%d" % args.seed)
    if os.path.exists(work):
        shutil.rmtree(work)
    os.makedirs(work)

    cases = []
    t0 = time.time()
    given = None
    if args.replay:
        with open(args.replay) as f:
            given = json.load(f)["cases"]
        args.count = len(given)
    for i in range(args.count):
        if given is not None:
            case = {k: given[i][k] for k in ("packages", "request", "options")}
        else:
            case = generate_case(gen, Requirement, big=args.big, deep=args.deep)
        repo = os.path.join(work, "repo%d" % i)
        os.makedirs(repo)
        write_repo(repo, case["packages"])
        expected, listing = solve_with_rez(case, repo)
        case["id"] = given[i]["id"] if given is not None else "s%d-%d" % (args.seed, i)
        case["repoPath"] = repo
        case["listing"] = listing
        case["expected"] = expected
        cases.append(case)
        if (i + 1) % 200 == 0:
            print("%d cases, %.1fs" % (i + 1, time.time() - t0), file=sys.stderr)

    tmp = args.out + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"generator": "scripts/rez-oracle/solver_random.py", "seed": args.seed,
                   "cases": cases}, f, indent=1)
    os.replace(tmp, args.out)
    shutil.rmtree(work)
    print("wrote %d cases to %s" % (len(cases), args.out), file=sys.stderr)


if __name__ == "__main__":
    main()
