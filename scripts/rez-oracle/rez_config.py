#!/usr/bin/env python3
"""What real Rez resolves under its own configuration: rezconfig files and REZ_* variables.

Run with Rez importable (Rez is not in CI, so the output is committed):

    /tmp/rezenv/rez-run.sh python scripts/rez-oracle/rez_config.py > test/data/rez-config.json

Over test/fixtures/rez-config (packages and configuration files written for
this test). Each case runs `rez-env REQUEST [ARGS] -o ctx.rxt` in a fresh
process (Rez reads its configuration once, at import) with only the case's
configuration: REZ_CONFIG_FILE names the case's files (or nothing), HOME is an
empty folder (or the fixture's home/, whose .rezconfig.py Rez then reads),
FIXTURE is the fixture's folder (the files name their repositories through it,
as $FIXTURE, which Rez expands) and the case's REZ_* variables are set. The
saved context is loaded in the same process and recorded: status, the
resolved variants (qualified name, root relative to the fixture), the failure
description, the implicit packages, the environment's REZ_<PKG>_ROOT/_BASE/_VERSION and
REZ_USED_PACKAGES_PATH, and what rez-env wrote on stderr.

The test (test/cli-rez-config.test.ts) runs `tantalus resolve --json` with the
same files and variables and compares.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.realpath(os.path.join(HERE, "..", "..", "test", "fixtures", "rez-config"))
REZ_RUN = "/tmp/rezenv/rez-run.sh"
MAIN = "$FIXTURE/main"

CASES = [
    # packages_path
    {"name": "REZ_PACKAGES_PATH", "env": {"REZ_PACKAGES_PATH": MAIN}, "request": ["foo"]},
    {"name": "packages_path: ModifyList in rezconfig.py", "files": ["modifylist.py"], "request": ["foo"]},
    {"name": "two REZ_PACKAGES_PATH entries", "env": {"REZ_PACKAGES_PATH": "$FIXTURE/local:" + MAIN}, "request": ["foo"]},
    # local_packages_path
    {"name": "local_packages_path in a YAML rezconfig", "files": ["local.yaml"], "request": ["foo"]},
    {"name": "--no-local leaves local_packages_path out", "files": ["local.yaml"], "args": ["--no-local"], "request": ["foo"]},
    # implicit_packages
    {
        "name": "REZ_IMPLICIT_PACKAGES",
        "env": {"REZ_PACKAGES_PATH": MAIN, "REZ_IMPLICIT_PACKAGES": "~bar<3,~foo<3"},
        "request": ["bar", "foo"],
    },
    # package_filter
    {"name": "package_filter: two filters", "files": ["filters.py"], "request": ["foo", "bar"]},
    {
        "name": "package_filter: an inclusion beats --exclude",
        "files": ["include.py"],
        "args": ["--exclude", "foo-3+"],
        "request": ["foo"],
    },
    {"name": "package_filter without --exclude", "files": ["include.py"], "request": ["foo"]},
    {
        "name": "REZ_PACKAGE_FILTER_JSON",
        "env": {"REZ_PACKAGES_PATH": MAIN, "REZ_PACKAGE_FILTER_JSON": '{"excludes": ["bar-3"]}'},
        "request": ["bar"],
    },
    {
        "name": "--no-filters",
        "env": {"REZ_PACKAGES_PATH": MAIN, "REZ_PACKAGE_FILTER_JSON": '{"excludes": ["bar-3"]}'},
        "args": ["--no-filters"],
        "request": ["bar"],
    },
    {
        "name": "--include beside a configured filter",
        "env": {"REZ_PACKAGES_PATH": MAIN, "REZ_PACKAGE_FILTER_JSON": '[{"excludes": ["bar-3", "glob(foo-*)"]}]'},
        "args": ["--include", "bar"],
        "request": ["bar"],
    },
    # package_orderers
    {"name": "package_orderers", "files": ["orderers.py"], "request": ["foo", "bar"]},
    {
        "name": "REZ_PACKAGE_ORDERERS_JSON",
        "env": {
            "REZ_PACKAGES_PATH": MAIN,
            "REZ_PACKAGE_ORDERERS_JSON": '{"type": "soft_timestamp", "timestamp": 1650000000, "packages": ["bar"]}',
        },
        "request": ["bar"],
    },
    # variant_select_mode
    {"name": "variant_select_mode default", "env": {"REZ_PACKAGES_PATH": MAIN}, "request": ["multi", "bar", "burgle"]},
    {"name": "intersection_priority", "files": ["intersection.py"], "request": ["multi", "bar", "burgle"]},
    {
        "name": "REZ_VARIANT_SELECT_MODE over the file",
        "files": ["intersection.py"],
        "env": {"REZ_VARIANT_SELECT_MODE": "version_priority"},
        "request": ["multi", "bar", "burgle"],
    },
    # error_on_missing_variant_requires
    {"name": "error_on_missing_variant_requires default", "env": {"REZ_PACKAGES_PATH": MAIN}, "request": ["opt"]},
    {
        "name": "error_on_missing_variant_requires off",
        "env": {"REZ_PACKAGES_PATH": MAIN, "REZ_ERROR_ON_MISSING_VARIANT_REQUIRES": "0"},
        "request": ["opt"],
    },
    {
        "name": "error_on_missing_variant_requires off, every variant missing a family",
        "env": {"REZ_PACKAGES_PATH": MAIN, "REZ_ERROR_ON_MISSING_VARIANT_REQUIRES": "off"},
        "request": ["allmissing"],
    },
    # use_variant_shortlinks
    {"name": "use_variant_shortlinks default", "env": {"REZ_PACKAGES_PATH": MAIN}, "request": ["hv"]},
    {
        "name": "use_variant_shortlinks off",
        "env": {"REZ_PACKAGES_PATH": MAIN, "REZ_USE_VARIANT_SHORTLINKS": "false"},
        "request": ["hv", "bar-1"],
    },
    # platform_map (the default implicit packages go through it)
    {"name": "platform_map from two files", "files": ["platform_map_os.py", "platform_map_arch.yaml"], "request": ["os", "arch"]},
    {
        "name": "REZ_PLATFORM_MAP_JSON",
        "env": {"REZ_PACKAGES_PATH": MAIN, "REZ_PLATFORM_MAP_JSON": '{"os": {"^.+$": "Zzz-9"}, "arch": {"^.+$": "zzz"}}'},
        "request": ["os", "arch"],
    },
    # ~/.rezconfig
    {"name": "~/.rezconfig.py", "home": "home", "request": ["foo"]},
    {
        "name": "REZ_DISABLE_HOME_CONFIG",
        "home": "home",
        "env": {"REZ_DISABLE_HOME_CONFIG": "1", "REZ_PACKAGES_PATH": MAIN},
        "request": ["foo"],
    },
]


def case_env(case, home):
    env = {
        "PATH": os.environ["PATH"],
        "HOME": home,
        "FIXTURE": FIXTURE,
        # rez-run.sh names its own file when REZ_CONFIG_FILE is empty: a path that does not exist names none.
        "REZ_CONFIG_FILE": os.pathsep.join(os.path.join(FIXTURE, "configs", f) for f in case.get("files", []))
        or os.path.join(FIXTURE, "no-rezconfig"),
    }
    for k, v in case.get("env", {}).items():
        env[k] = v.replace("$FIXTURE", FIXTURE)
    return env


def probe(rxt, args):
    """In a fresh process: rez-env ARGS -o RXT, then the saved context."""
    sys.argv = ["rez-env"] + args + ["-o", rxt]
    from rez.cli._main import run

    code = 0
    try:
        run("env")
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    out = {"exit": code}
    if os.path.exists(rxt):
        from rez.resolved_context import ResolvedContext

        ctx = ResolvedContext.load(rxt)
        out["status"] = ctx.status.name
        out["implicit_packages"] = [str(r) for r in ctx.implicit_packages]
        if ctx.status.name == "solved":
            out["resolved"] = [
                {"name": v.qualified_name, "root": os.path.relpath(v.root, FIXTURE)} for v in ctx.resolved_packages
            ]
            # The environment's variables that the configuration decides: each package's root, base and
            # version, and the search path (with the fixture and HOME as $FIXTURE and $HOME).
            environ = ctx.get_environ(parent_environ={})
            out["environ"] = {
                k: v.replace(FIXTURE, "$FIXTURE").replace(os.environ["HOME"], "$HOME")
                for k, v in sorted(environ.items())
                if re.match(r"^REZ_\w+_(ROOT|BASE|VERSION)$", k) or k == "REZ_USED_PACKAGES_PATH"
            }
        else:
            out["failure"] = ctx.failure_description
    json.dump(out, sys.stdout)


def main():
    from rez.system import system

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        empty_home = os.path.join(tmp, "home")
        os.mkdir(empty_home)
        for i, case in enumerate(CASES):
            home = os.path.join(FIXTURE, case["home"]) if "home" in case else empty_home
            rxt = os.path.join(tmp, f"{i}.rxt")
            # The request first: --exclude and --include take every word up to the next option.
            args = case["request"] + case.get("args", [])
            p = subprocess.run(
                [REZ_RUN, "python", os.path.abspath(__file__), "--probe", rxt] + args,
                env=case_env(case, home),
                capture_output=True,
                text=True,
                cwd=tmp,
            )
            try:
                rez = json.loads(p.stdout.strip().splitlines()[-1])
            except (IndexError, ValueError):
                raise SystemExit(f"case {case['name']!r}: no result from Rez:\n{p.stdout}\n{p.stderr}")
            # What Rez printed, without its log timestamps and with the fixture's folder as $FIXTURE.
            lines = [re.sub(r"^\d\d:\d\d:\d\d ", "", l) for l in p.stderr.strip().splitlines()]
            rez["stderr"] = "\n".join(lines).replace(FIXTURE, "$FIXTURE")
            results.append({**case, "rez": rez})
    json.dump(
        {
            "rez_version": __import__("rez").__version__,
            "fixture": "test/fixtures/rez-config",
            # The recording host's values in the default implicit packages (the test substitutes its own).
            "host": {"platform": system.platform, "arch": system.arch, "os": system.os},
            "cases": results,
        },
        sys.stdout,
        indent=1,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--probe"]:
        probe(sys.argv[2], sys.argv[3:])
    else:
        main()
