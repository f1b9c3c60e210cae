#!/usr/bin/env python3
"""Test vectors for Tantalus's rex (src/rex): what real Rez makes of a context.

For every request in test/fixtures/rex-corpus/requests.json this resolves the
request against the corpus repository with Rez, then records:

* the resolve (qualified variant names, in Rez's order) and the ephemerals;
* the environ of the passive Python interpreter for the given parent environment
  (`ResolvedContext.get_environ`, what `rez context --interpret -f json --no-env`
  prints when the parent environment is empty);
* the rex actions (`get_actions`);
* the shell code for bash, sh, zsh, tcsh, csh and pwsh (`get_shell_code`);
* or, for a failing context, the exception Rez raised.

Run with a Python that can import rez (rez from source):

    /tmp/rezenv/rez-run.sh python scripts/rez-oracle/rex_vectors.py

Rez computes the system paths it appends to PATH per shell class and caches
them on the class; a shell class inherits the cache of its base class (bash and
zsh inherit sh's, tcsh inherits csh's), so the value depends on which shell was
asked first. To record what a fresh `rez context --interpret -s SHELL` gives,
each shell's paths are computed in a fresh process and pinned on its class.

The context timestamp is pinned (REZ_USED_TIMESTAMP) and HOME is set to a
fixed path (Rez expands `~` with it) so the data does not change from run to
run; the corpus location is replaced by @REPO@. A vector may override Rez
settings ("config", e.g. parent_variables) for its own resolve.

For every vector interpreted in an empty parent environment, the script also
saves the context and checks that the CLI, `rez context --interpret -f json
--no-env`, prints the same environ as the API.
"""
import json
import os
import subprocess
import sys
import tempfile

# Rez expands "~" with os.path.expanduser, i.e. with $HOME: pin it.
ORACLE_HOME = "/home/rez-oracle"
os.environ["HOME"] = ORACLE_HOME

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
CORPUS = os.path.join(ROOT, "test", "fixtures", "rex-corpus")
REPO = os.path.join(CORPUS, "packages")
OUT = os.path.join(ROOT, "test", "data", "rex-vectors.json")

SHELLS = ["bash", "sh", "zsh", "tcsh", "csh", "pwsh"]
PINNED_TIMESTAMP = 1712345678
OPTIONVARS = {"tantalus": {"flag": "on", "nested": {"level": 3}}}


def fresh_syspaths(shell):
    code = ("import json; from rez.shells import create_shell; "
            "print(json.dumps(create_shell(%r).get_syspaths()))" % shell)
    out = subprocess.check_output([sys.executable, "-c", code], text=True)
    return json.loads(out.strip().splitlines()[-1])


def shell_classes():
    from rez.plugin_managers import plugin_manager
    return {s: plugin_manager.get_plugin_class("shell", s) for s in SHELLS}


def executable(cls):
    try:
        return cls.executable_filepath()
    except RuntimeError:
        return None


def escaped(value):
    from rez.rex import EscapedString
    if isinstance(value, EscapedString):
        return {"escaped": [[bool(lit), text] for lit, text in value.strings]}
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [escaped(x) for x in value]
    return str(value)


def action_json(action):
    return [action.name] + [escaped(a) for a in action.args]


def placeholders(obj, repo):
    if isinstance(obj, str):
        return obj.replace(repo, "@REPO@")
    if isinstance(obj, list):
        return [placeholders(x, repo) for x in obj]
    if isinstance(obj, dict):
        return {placeholders(k, repo): placeholders(v, repo) for k, v in obj.items()}
    return obj


def error_json(exc):
    return {"type": type(exc).__name__, "message": str(exc)}


def check_cli(ctx, environ, rxt):
    """The API's environ is what `rez context --interpret -f json --no-env` prints."""
    ctx.save(rxt)
    # The CLI runs in its own process: give it the same optionvars through a config file.
    extra_config = os.path.join(os.path.dirname(rxt), "rezconfig-optionvars.py")
    with open(extra_config, "w") as f:
        f.write("optionvars = %r\n" % (OPTIONVARS,))
    env = dict(os.environ)
    env["REZ_CONFIG_FILE"] = os.pathsep.join(x for x in [os.environ.get("REZ_CONFIG_FILE"), extra_config] if x)
    out = subprocess.check_output(
        [sys.executable, "-m", "rez.cli._main", "context", "--interpret", "-f", "json", "--no-env", rxt],
        text=True, env=env)
    printed = json.loads(out)
    if printed != environ:
        raise SystemExit("CLI and API disagree for %s:\n%s\n%s" % (rxt, printed, environ))
    return out


def pin_shells():
    """Each shell class gets the system paths a fresh process computes (see the module doc)."""
    classes = shell_classes()
    syspaths = {s: fresh_syspaths(s) for s in SHELLS}
    for s, cls in classes.items():
        cls.syspaths = syspaths[s]
    return syspaths, {s: executable(cls) for s, cls in classes.items()}


def vector(item, repo, tmpdir, shells=SHELLS, with_actions=True):
    """Resolves and interprets one request item ({"name", "request", "parentEnv"?, "config"?, ...})."""
    from rez.config import config
    from rez.resolved_context import ResolvedContext

    parent_env = item.get("parentEnv", {})
    overrides = item.get("config", {})
    for key, value in overrides.items():
        config.override(key, value)
    ctx = ResolvedContext(
        item["request"],
        package_paths=[repo],
        add_implicit_packages=item.get("addImplicitPackages", True),
        timestamp=item.get("timestamp"))
    if ctx.status.name != "solved":
        raise SystemExit("%s did not solve: %s" % (item["name"], ctx.failure_description))
    if not item.get("timestamp"):
        ctx.timestamp = PINNED_TIMESTAMP

    vec = {
        "name": item["name"],
        "request": item["request"],
        "parentEnv": parent_env,
        "implicitPackages": [str(x) for x in ctx.implicit_packages],
        "packageRequests": [str(x) for x in ctx._package_requests],
        "resolved": [v.qualified_name for v in ctx.resolved_packages],
        "ephemerals": [str(x) for x in (ctx.resolved_ephemerals or [])],
        "timestamp": ctx.timestamp,
        "requestedTimestamp": ctx.requested_timestamp or 0,
    }
    try:
        vec["environ"] = ctx.get_environ(parent_environ=dict(parent_env))
        if with_actions:
            vec["actions"] = [action_json(a) for a in ctx.get_actions(parent_environ=dict(parent_env))]
    except Exception as e:  # noqa: the failure is the data
        vec["error"] = error_json(e)
    code = {}
    for s in shells:
        try:
            code[s] = ctx.get_shell_code(shell=s, parent_environ=dict(parent_env))
        except Exception as e:  # noqa
            code[s] = {"error": error_json(e)}
    vec["shells"] = code
    if overrides:
        vec["config"] = overrides
    for key in overrides:
        config.remove_override(key)
    # The CLI reads the saved context: settings that only change the resolve (implicit packages) carry over.
    if not parent_env and not set(overrides) - {"implicit_packages"} and "error" not in vec:
        vec["cliJson"] = check_cli(ctx, vec["environ"], os.path.join(tmpdir, item["name"] + ".rxt"))
    print("%-28s %s" % (item["name"], "error" if "error" in vec else "%d vars" % len(vec["environ"])))
    return vec


def write_vectors(items, repo, out, generator, extra=None, shells=SHELLS, with_actions=True):
    """Resolves every item against repo with Rez and writes the vectors file (repo replaced by @REPO@)."""
    from rez.config import config
    from rez.system import system
    from rez import __version__, module_root_path

    syspaths, executables = pin_shells()
    config.override("optionvars", OPTIONVARS)
    tmpdir = tempfile.mkdtemp(prefix="rex-vectors-")
    vectors = [vector(item, repo, tmpdir, shells, with_actions) for item in items]
    data = {
        "generator": generator,
        "rez": {"version": __version__, "used": module_root_path},
        "system": {"platform": system.platform, "arch": system.arch, "os": system.os},
        "optionvars": OPTIONVARS,
        "home": ORACLE_HOME,
        "envVarSeparators": config.env_var_separators,
        "systemPaths": syspaths,
        "shellExecutables": executables,
    }
    data.update(extra or {})
    data["vectors"] = vectors
    os.makedirs(os.path.dirname(out), exist_ok=True)
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(placeholders(data, repo), f, indent=1, sort_keys=False)
        f.write("\n")
    os.replace(tmp, out)
    print("wrote", out)


def main():
    with open(os.path.join(CORPUS, "requests.json")) as f:
        spec = json.load(f)
    write_vectors(spec["vectors"], REPO, OUT, "scripts/rez-oracle/rex_vectors.py")


if __name__ == "__main__":
    main()
