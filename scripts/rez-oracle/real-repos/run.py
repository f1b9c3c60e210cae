#!/usr/bin/env python3
"""Real Rez's side of the differential test on public studios' package repositories.

    python3 scripts/rez-oracle/real-repos/run.py        (re-executes itself under /tmp/rezenv/rez-run.sh)

Steps, all output outside git under $REZ_CORPUS (default /work/rez-corpus):

1. gather.py rebuilds files/<owner>+<name>/<path> from the mirrors and manifest.json.
2. Every file is loaded with Rez's loader (rez.serialise.load_from_file: module
   executed, @early evaluated) and checked with Rez's package schema, encoded as
   scripts/rez-oracle/package_definitions.py encodes (the encoding
   src/rez/definition/rez-parity.test.ts compares) -> rez-load.json.
3. Each repository is laid out as a Rez repository, repos/<owner>+<name>/NAME/VERSION/package.py,
   from the name and version Rez loaded. A file Rez refuses is laid out too when
   its path already reads NAME/VERSION/package.py and NAME is a family of that
   repository, because that is how a studio's broken version sits beside good ones.
4. Requirement families no package of the repository provides get stub packages
   (stubs/<owner>+<name>/FAMILY/VERSION/package.py, no commands), one version per
   distinct bound the repository's requirements name, so requests can resolve.
5. For every package Rez loads, the request NAME==VERSION is resolved with Rez
   against [repository, stubs] with Rez's default implicit packages; a solved
   context is interpreted in an empty parent environment as
   `rez context --interpret -f json --no-env` does (environ) and as bash code
   (get_shell_code), with HOME, the timestamp and the shells' system paths pinned
   as scripts/rez-oracle/rex_vectors.py pins them -> rez-resolve.json.

Package files are user code: each runs in a worker process with a timeout, its
stdout kept away from the worker's protocol. compare.ts reads both JSON files.
"""
import json
import os
import re
import selectors
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ORACLE = os.path.dirname(HERE)
CORPUS = os.environ.get("REZ_CORPUS", "/work/rez-corpus")
REZ_RUN = os.environ.get("REZ_RUN", "/tmp/rezenv/rez-run.sh")
TIMEOUT = float(os.environ.get("REZ_ORACLE_TIMEOUT", "30"))


def have_rez():
    try:
        import rez  # noqa: F401
        return True
    except ImportError:
        return False


# ---------------------------------------------------------------- worker side

def worker(kind):
    """Reads one JSON task a line from stdin, writes one JSON result a line."""
    out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # whatever a package prints goes to stderr, not into the protocol
    sys.stdout = sys.stderr
    sys.path.insert(0, ORACLE)
    if kind == "resolve":
        import rex_vectors  # noqa: F401  (pins HOME before rez is imported)
        setup = json.loads(sys.stdin.readline())
        for s, paths in setup["systemPaths"].items():
            from rez.plugin_managers import plugin_manager
            plugin_manager.get_plugin_class("shell", s).syspaths = paths
    for line in sys.stdin:
        task = json.loads(line)
        try:
            res = load_one(task) if kind == "load" else resolve_one(task)
        except BaseException as e:  # noqa: the failure is the data (SystemExit included)
            res = {"error": {"type": type(e).__name__, "message": str(e)}}
        res["id"] = task["id"]
        out.write(json.dumps(res) + "\n")
        out.flush()


def load_one(task):
    from textwrap import dedent
    from rez.serialise import load_from_file, FileFormat
    from rez.package_resources import package_pod_schema
    import package_definitions
    path = task["file"]
    cwd = os.getcwd()
    os.chdir(os.path.dirname(path))
    try:
        try:
            data = dict(load_from_file(path, FileFormat.py, disable_memcache=True))
        except BaseException as e:  # noqa
            return {"loaded": False, "error": {"type": type(e).__name__, "message": str(e)}}
    finally:
        os.chdir(cwd)
    try:
        package_pod_schema.validate(dict(data))
        schema = "ok"
    except Exception as e:  # noqa
        schema = "%s: %s" % (type(e).__name__, str(e).splitlines()[0] if str(e) else "")
    plain = {}
    for key in ("name", "version"):
        if isinstance(data.get(key), str):
            plain[key] = data[key]
    reqs = []
    for r in data.get("requires") or [] if isinstance(data.get("requires"), list) else []:
        reqs.append(str(r))
    variants = []
    if isinstance(data.get("variants"), list):
        for v in data["variants"]:
            if isinstance(v, list):
                variants.append([str(r) for r in v])
    plain["requires"] = reqs
    plain["variants"] = variants
    for key in ("description", "changelog"):
        if isinstance(data.get(key), str):
            data[key] = dedent(data[key]).strip()
    return {"loaded": True, "schema": schema, "plain": plain,
            "attributes": [[k, package_definitions.encode(v)] for k, v in data.items()]}


def resolve_one(task):
    from rez.resolved_context import ResolvedContext
    import rex_vectors
    ctx = ResolvedContext([task["request"]], package_paths=task["paths"])
    res = {"status": ctx.status.name,
           "implicitPackages": [str(x) for x in ctx.implicit_packages],
           "packageRequests": [str(x) for x in ctx._package_requests]}
    if ctx.status.name != "solved":
        res["failure"] = ctx.failure_description
        return res
    ctx.timestamp = rex_vectors.PINNED_TIMESTAMP
    res["resolved"] = [{"name": v.name, "version": str(v.version), "index": v.index,
                        "qualified": v.qualified_name, "root": v.root} for v in ctx.resolved_packages]
    res["ephemerals"] = [str(x) for x in (ctx.resolved_ephemerals or [])]
    res["timestamp"] = ctx.timestamp
    res["requestedTimestamp"] = ctx.requested_timestamp or 0
    try:
        res["environ"] = ctx.get_environ(parent_environ={})
    except BaseException as e:  # noqa
        res["environError"] = {"type": type(e).__name__, "message": str(e)}
    try:
        res["bash"] = ctx.get_shell_code(shell="bash", parent_environ={})
    except BaseException as e:  # noqa
        res["bashError"] = {"type": type(e).__name__, "message": str(e)}
    return res


# ---------------------------------------------------------------- parent side

def run_tasks(kind, tasks, setup=None):
    """Runs tasks in a worker; a task that exceeds TIMEOUT is recorded as such and the worker restarted."""
    results = {}
    died = set()
    pending = list(tasks)
    while pending:
        p = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--worker", kind],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             text=True, cwd=tempfile.gettempdir(), start_new_session=True)
        feed = ([json.dumps(setup)] if setup is not None else []) + [json.dumps(t) for t in pending]
        # Feed through a thread-free trick: the tasks are small, write them all then close.
        import threading
        threading.Thread(target=lambda: (p.stdin.write("\n".join(feed) + "\n"), p.stdin.close()), daemon=True).start()
        sel = selectors.DefaultSelector()
        sel.register(p.stdout, selectors.EVENT_READ)
        done_here = 0
        while done_here < len(pending):
            if not sel.select(TIMEOUT):
                t = pending[done_here]
                results[t["id"]] = {"id": t["id"], "timeout": TIMEOUT, "error": {"type": "Timeout", "message": "no answer in %ss" % TIMEOUT}}
                done_here += 1
                os.killpg(p.pid, 9)
                break
            line = p.stdout.readline()
            if not line:  # the worker died (os._exit in a package, a crash): retry the task once, alone
                t = pending[done_here]
                code = p.wait()
                if t["id"] in died:
                    results[t["id"]] = {"id": t["id"], "error": {"type": "WorkerDied", "message": "exit %s" % code}}
                    done_here += 1
                died.add(t["id"])
                break
            r = json.loads(line)
            results[r["id"]] = r
            done_here += 1
            if done_here % 100 == 0:
                print("  %s: %d/%d" % (kind, len(results), len(tasks)), file=sys.stderr)
        p.kill()
        p.wait()
        pending = pending[done_here:]
    return results


NAME_RE = re.compile(r"^[a-zA-Z_0-9](\.?[a-zA-Z0-9_]+)*$")  # Rez's PACKAGE_NAME_REGSTR
VERSION_RE = re.compile(r"^[a-zA-Z0-9_]+([.-][a-zA-Z0-9_]+)*$")


def write_file(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


def layout(entries, loads):
    """repos/<repo>/NAME/VERSION/package.py for each repository; returns the laid-out packages."""
    import shutil
    shutil.rmtree(os.path.join(CORPUS, "repos"), ignore_errors=True)
    laid = []      # {repo, key, name, version, file, target}
    taken = {}
    families = {}
    for e in entries:
        r = loads[e["key"]]
        if r.get("loaded") and r["schema"] == "ok" and "name" in r["plain"]:
            families.setdefault(e["repo"], set()).add(r["plain"]["name"])
    for e in entries:
        r = loads[e["key"]]
        name = version = None
        if r.get("loaded") and r["schema"] == "ok" and "name" in r["plain"]:
            name, version = r["plain"]["name"], r["plain"].get("version", "")
            laid_as = "loaded"
        else:
            parts = e["path"].split("/")
            if len(parts) >= 3 and parts[-3] in families.get(e["repo"], ()) and VERSION_RE.match(parts[-2]):
                name, version, laid_as = parts[-3], parts[-2], "refused"
        if name is None or not NAME_RE.match(name) or (version and not VERSION_RE.match(version)):
            continue
        slot = (e["repo"], name, version)
        if slot in taken:
            continue  # the first file of a name and version in manifest order wins
        target = os.path.join(CORPUS, "repos", e["repo"], name, version, "package.py") if version else \
            os.path.join(CORPUS, "repos", e["repo"], name, "package.py")
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(e["file"], target)
        taken[slot] = e["key"]
        laid.append({"repo": e["repo"], "key": e["key"], "name": name, "version": version,
                     "as": laid_as, "target": target})
    return laid


def stubs(laid, loads):
    """Stub packages for the requirement families no package of the repository provides."""
    import shutil
    from rez.version import Requirement, Version
    shutil.rmtree(os.path.join(CORPUS, "stubs"), ignore_errors=True)
    made = {}
    by_repo = {}
    for p in laid:
        by_repo.setdefault(p["repo"], []).append(p)
    for repo, pkgs in by_repo.items():
        have = {p["name"] for p in pkgs}
        wanted = {}
        for p in pkgs:
            r = loads[p["key"]]
            if p["as"] != "loaded":
                continue
            for s in r["plain"]["requires"] + [x for v in r["plain"]["variants"] for x in v]:
                try:
                    req = Requirement(s)
                except Exception:  # noqa: an invalid requirement is the resolve's business
                    continue
                if req.conflict or req.weak or req.name in have:
                    continue
                versions = wanted.setdefault(req.name, set())
                for b in req.range.bounds:
                    lo, hi = b.lower, b.upper
                    if lo.version != Version() and lo.inclusive:
                        versions.add(str(lo.version))
                    elif lo.version != Version():
                        versions.add(str(lo.version) + ".1")
                    elif hi.version != Version.inf and hi.inclusive:
                        versions.add(str(hi.version))
                    elif hi.version != Version.inf:
                        versions.add("0")
                    else:
                        versions.add("1.0")
        for fam, versions in wanted.items():
            for v in sorted(versions):
                if not VERSION_RE.match(v):
                    continue
                write_file(os.path.join(CORPUS, "stubs", repo, fam, v, "package.py"),
                           "name = %r\nversion = %r\n" % (fam, v))
            made.setdefault(repo, {})[fam] = sorted(versions)
    return made


def main():
    if not have_rez():
        os.execv(REZ_RUN, [REZ_RUN, "python", os.path.abspath(__file__)] + sys.argv[1:])
    if "--no-gather" not in sys.argv:
        subprocess.check_call([sys.executable, os.path.join(HERE, "gather.py")])
    with open(os.path.join(HERE, "manifest.json")) as f:
        manifest = json.load(f)["files"]
    entries = []
    for i, m in enumerate(manifest):
        repo = m["repository"].replace("/", "+", 1)
        entries.append({"key": i, "repo": repo, "path": m["path"], "sha256": m["sha256"],
                        "file": os.path.join(CORPUS, "files", repo, m["path"])})

    print("loading %d files with Rez" % len(entries), file=sys.stderr)
    loads = run_tasks("load", [{"id": e["key"], "file": e["file"]} for e in entries])
    from rez import __version__
    load_out = {"generator": "scripts/rez-oracle/real-repos/run.py", "rez": __version__,
                "files": [dict(repository=m["repository"], path=m["path"], sha256=m["sha256"],
                               file=e["file"], **{k: v for k, v in loads[e["key"]].items() if k != "id"})
                          for m, e in zip(manifest, entries)]}

    laid = layout(entries, loads)
    made = stubs(laid, loads)
    load_out["layout"] = laid
    load_out["stubs"] = made
    dump(os.path.join(CORPUS, "rez-load.json"), load_out)

    sys.path.insert(0, ORACLE)
    import rex_vectors
    from rez.config import config
    from rez.system import system
    from rez import module_root_path
    syspaths, executables = rex_vectors.pin_shells()
    tasks = []
    for p in laid:
        if p["as"] != "loaded":
            continue
        paths = [os.path.join(CORPUS, "repos", p["repo"])]
        if os.path.isdir(os.path.join(CORPUS, "stubs", p["repo"])):
            paths.append(os.path.join(CORPUS, "stubs", p["repo"]))
        req = p["name"] + ("==" + p["version"] if p["version"] else "")
        tasks.append({"id": len(tasks), "repo": p["repo"], "key": p["key"], "request": req, "paths": paths})
    print("resolving %d requests with Rez" % len(tasks), file=sys.stderr)
    resolves = run_tasks("resolve", tasks, setup={"systemPaths": {"bash": syspaths["bash"]}})
    dump(os.path.join(CORPUS, "rez-resolve.json"), {
        "generator": "scripts/rez-oracle/real-repos/run.py",
        "rez": {"version": __version__, "used": module_root_path},
        "system": {"platform": system.platform, "arch": system.arch, "os": system.os},
        "home": rex_vectors.ORACLE_HOME,
        "envVarSeparators": config.env_var_separators,
        "systemPaths": {"bash": syspaths["bash"]},
        "shellExecutables": {"bash": executables["bash"]},
        "requests": [dict(t, **{k: v for k, v in resolves[t["id"]].items() if k != "id"}) for t in tasks],
    })
    ok = sum(1 for r in resolves.values() if r.get("status") == "solved")
    print("rez: %d files loaded of %d; %d of %d requests solved" % (
        sum(1 for r in loads.values() if r.get("loaded")), len(entries), ok, len(tasks)), file=sys.stderr)


def dump(path, data):
    with open(path + ".tmp", "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")
    os.replace(path + ".tmp", path)
    print("wrote", path, file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--worker":
        if not have_rez():
            sys.exit("the worker needs rez importable")
        worker(sys.argv[2])
    else:
        main()
