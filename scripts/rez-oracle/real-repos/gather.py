#!/usr/bin/env python3
"""Build or rebuild the corpus of public studios' package.py files.

    python3 scripts/rez-oracle/real-repos/gather.py            # rebuild the corpus from the manifest
    python3 scripts/rez-oracle/real-repos/gather.py --scan     # rewrite the manifest from the mirrors' HEAD

The files themselves are never committed (they belong to their repositories):
only manifest.json is, with each file's repository, commit, path and sha256.
The mirrors are the git snapshots the session's `fetch` tool brings to
/work/.mirror/<owner>+<name>/ (read with `git --git-dir`, no work tree). The
corpus is written outside git, to $REZ_CORPUS (default /work/rez-corpus):

    files/<owner>+<name>/<path in the repository>     every package.py as committed

run.py then lays the files out as Rez repositories (name/version/package.py).
A file whose content differs from the manifest's sha256 stops the rebuild:
the comparison would otherwise be about other files than the report says.
"""
import hashlib
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
MANIFEST = os.path.join(HERE, "manifest.json")
MIRRORS = os.environ.get("REZ_MIRRORS", "/work/.mirror")
CORPUS = os.environ.get("REZ_CORPUS", "/work/rez-corpus")

# Repositories of the rez project itself hold test data, not a studio's packages.
EXCLUDED = {"AcademySoftwareFoundation+rez"}


def git_dir(mirror):
    for d in (os.path.join(mirror, "repo", ".git"), os.path.join(mirror, "repo")):
        if os.path.isfile(os.path.join(d, "HEAD")):
            return d
    return None


def git(gd, *args):
    return subprocess.check_output(["git", "--git-dir", gd] + list(args))


def scan():
    entries = []
    for name in sorted(os.listdir(MIRRORS)):
        if name in EXCLUDED:
            continue
        gd = git_dir(os.path.join(MIRRORS, name))
        if not gd:
            continue
        commit = git(gd, "rev-parse", "HEAD").decode().strip()
        for line in git(gd, "ls-tree", "-r", "-z", commit).decode("utf-8", "surrogateescape").split("\0"):
            if not line:
                continue
            meta, path = line.split("\t", 1)
            mode, kind, blob = meta.split()
            if kind != "blob" or mode == "120000" or os.path.basename(path) != "package.py":
                continue
            data = git(gd, "cat-file", "blob", blob)
            entries.append({
                "repository": name.replace("+", "/", 1),
                "commit": commit,
                "path": path,
                "sha256": hashlib.sha256(data).hexdigest(),
            })
    with open(MANIFEST + ".tmp", "w") as f:
        json.dump({"generator": "scripts/rez-oracle/real-repos/gather.py --scan", "files": entries}, f, indent=1)
        f.write("\n")
    os.replace(MANIFEST + ".tmp", MANIFEST)
    repos = sorted({e["repository"] for e in entries})
    print("manifest: %d files, %d distinct, %d repositories" % (
        len(entries), len({e["sha256"] for e in entries}), len(repos)))


def rebuild():
    with open(MANIFEST) as f:
        entries = json.load(f)["files"]
    written = 0
    missing = set()
    for e in entries:
        mirror = os.path.join(MIRRORS, e["repository"].replace("/", "+", 1))
        gd = git_dir(mirror)
        if not gd:
            missing.add(e["repository"])
            continue
        data = git(gd, "show", "%s:%s" % (e["commit"], e["path"]))
        if hashlib.sha256(data).hexdigest() != e["sha256"]:
            sys.exit("%s %s:%s does not have the manifest's sha256" % (e["repository"], e["commit"], e["path"]))
        out = os.path.join(CORPUS, "files", e["repository"].replace("/", "+", 1), e["path"])
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with open(out + ".tmp", "wb") as f:
            f.write(data)
        os.replace(out + ".tmp", out)
        written += 1
    print("corpus: %d files written under %s/files" % (written, CORPUS))
    if missing:
        sys.exit("no mirror for: %s (fetch them first)" % ", ".join(sorted(missing)))


if __name__ == "__main__":
    scan() if "--scan" in sys.argv[1:] else rebuild()
