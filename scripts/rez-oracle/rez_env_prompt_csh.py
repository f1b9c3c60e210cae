#!/usr/bin/env python3
"""What real Rez sets as the prompt of an interactive `rez-env --shell tcsh|csh`:
$prompt, REZ_ENV_PROMPT and REZ_STORED_PROMPT_CSH inside the shell, once, nested
(started from inside one: REZ_ENV_PROMPT and REZ_STORED_PROMPT_CSH exported by
the outer) and with --norc, with a ~/.tcshrc and ~/.cshrc that set their own
prompt. Rez's csh plugin (_bind_interactive_rez) sets the prompt from Python
after the startup files: "$REZ_ENV_PROMPT " before the stored prompt, else
$prompt of Rez's own environment, else "[%m %c]%# ".

Run with Rez importable (Rez is not in CI, so the output is committed):

    /tmp/rezenv/rez-run.sh python scripts/rez-oracle/rez_env_prompt_csh.py \\
        > test/data/rez-env-prompt-csh.json

Over test/fixtures/rez-env-habits (foo-1), no implicit packages, each shell
under a pseudo-terminal (script(1)), as rez_env_habits.py reads bash's prompt.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "fixtures", "rez-env-habits"))
REZ_RUN = "/tmp/rezenv/rez-run.sh"
PROBE = 'echo "@@P=[$REZ_ENV_PROMPT]"; echo "@@PROMPT=[$prompt]"; echo "@@S=[$REZ_STORED_PROMPT_CSH]"\n'
CASES = {
    "once": ({}, False),
    "nested": ({"REZ_ENV_PROMPT": ">", "REZ_STORED_PROMPT_CSH": '"[%m %c]%# "'}, False),
    "norc": ({}, True),
}


def main():
    out = {}
    for shell in ("tcsh", "csh"):
        home = tempfile.mkdtemp()
        for rc in (".tcshrc", ".cshrc"):
            with open(os.path.join(home, rc), "w") as f:
                f.write('set prompt="user%% "\n')
        out[shell] = {}
        for label, (extra, norc) in CASES.items():
            env = dict(os.environ, HOME=home, REZ_PACKAGES_PATH=ROOT, SHELL="/bin/" + shell)
            for k in ("REZ_ENV_PROMPT", "REZ_STORED_PROMPT_CSH", "prompt"):
                env.pop(k, None)
            env.update(extra)
            args = "%s env --ni --shell %s foo-1%s" % (REZ_RUN, shell, " --norc" if norc else "")
            script = "sleep 3\nprintf '%s'\nsleep 1\nprintf 'exit\\n'\n" % PROBE.replace("\n", "\\n")
            p = subprocess.run(["bash", "-c", "(%s) | script -qfc '%s' /dev/null" % (script, args)],
                               env=env, capture_output=True, text=True, timeout=60)
            found = dict(re.findall(r"@@(P|PROMPT|S)=\[(.*?)\]\r?\n", p.stdout))
            out[shell][label] = {"REZ_ENV_PROMPT": found.get("P"), "prompt": found.get("PROMPT"),
                                 "REZ_STORED_PROMPT_CSH": found.get("S")}
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
