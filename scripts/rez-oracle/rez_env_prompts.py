#!/usr/bin/env python3
"""What real Rez sets as the prompt of an interactive `rez-env --shell tcsh|csh|zsh`
(rez_env_habits.py records bash's), once, nested (started from inside one: what
the outer shell exported) and with --norc, with startup files that set their
own prompt.

* tcsh, csh: $prompt, REZ_ENV_PROMPT and REZ_STORED_PROMPT_CSH. Rez's csh
  plugin (_bind_interactive_rez) sets the prompt from Python after the startup
  files: "$REZ_ENV_PROMPT " before the stored prompt, else $prompt of Rez's own
  environment, else "[%m %c]%# ".
* zsh: REZ_ENV_PROMPT (its mark is '%', which zsh's escaping doubles) and PS1.

Run with Rez importable (Rez is not in CI, so the output is committed):

    /tmp/rezenv/rez-run.sh python scripts/rez-oracle/rez_env_prompts.py \\
        > test/data/rez-env-prompts.json

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
PROBES = {
    "csh": 'echo "@@P=[$REZ_ENV_PROMPT]"; echo "@@PROMPT=[$prompt]"; echo "@@S=[$REZ_STORED_PROMPT_CSH]"\n',
    "zsh": 'echo "@@P=[$REZ_ENV_PROMPT]"; echo "@@PS1=[$PS1]"\n',
}
CASES = {
    "csh": {
        "once": ({}, False),
        "nested": ({"REZ_ENV_PROMPT": ">", "REZ_STORED_PROMPT_CSH": '"[%m %c]%# "'}, False),
        "norc": ({}, True),
    },
    "zsh": {
        "once": ({}, False),
        "nested": ({"REZ_ENV_PROMPT": "%%", "REZ_STORED_PROMPT_SH": "user%% "}, False),
        "norc": ({}, True),
    },
}
# The users' own prompts (zsh writes a % as %%).
RCS = {"csh": ((".tcshrc", ".cshrc"), 'set prompt="user% "\n'), "zsh": ((".zshrc",), 'PS1="user%% "\n')}
KEYS = {"P": "REZ_ENV_PROMPT", "PROMPT": "prompt", "S": "REZ_STORED_PROMPT_CSH", "PS1": "PS1"}


def main():
    out = {}
    for shell in ("tcsh", "csh", "zsh"):
        kind = "zsh" if shell == "zsh" else "csh"
        home = tempfile.mkdtemp()
        names, text = RCS[kind]
        for rc in names:
            with open(os.path.join(home, rc), "w") as f:
                f.write(text)
        out[shell] = {}
        for label, (extra, norc) in CASES[kind].items():
            env = dict(os.environ, HOME=home, REZ_PACKAGES_PATH=ROOT, SHELL="/bin/" + shell)
            for k in ("REZ_ENV_PROMPT", "REZ_STORED_PROMPT_CSH", "REZ_STORED_PROMPT_SH", "prompt", "PS1", "ZDOTDIR"):
                env.pop(k, None)
            env.update(extra)
            args = "%s env --ni --shell %s foo-1%s" % (REZ_RUN, shell, " --norc" if norc else "")
            script = "sleep 3\nprintf '%s'\nsleep 1\nprintf 'exit\\n'\n" % PROBES[kind].replace("\n", "\\n")
            p = subprocess.run(["bash", "-c", "(%s) | script -qfc '%s' /dev/null" % (script, args)],
                               env=env, capture_output=True, text=True, timeout=60)
            found = dict(re.findall(r"@@(P|PROMPT|S|PS1)=\[(.*?)\]\r?\n", p.stdout))
            out[shell][label] = {KEYS[k]: v for k, v in found.items()}
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
