#!/usr/bin/env python3
"""Rex test vectors for the sample studio's workflows, from real Rez.

Generate the studio first, at the scale the test regenerates it with:

    node bin/tantalus.js studio generate /tmp/tantalus-rex-studio --scale small --force
    /tmp/rezenv/rez-run.sh python scripts/rez-oracle/rex_studio_vectors.py /tmp/tantalus-rex-studio

Each workflow of the studio's tantalus.yaml is resolved with Rez, with the
studio's implicit_packages, and interpreted as rex_vectors.py does (environ,
actions, shell code for every shell, the CLI's JSON). The packages directory is
replaced by @REPO@, so the test can regenerate the studio anywhere and compare.
To keep the data small, shell code is kept for one shell of each quoting family
(bash, tcsh, pwsh; the corpus vectors cover all six) and actions are left out.
Writes test/data/rex-studio-vectors.json.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import rex_vectors  # noqa: E402  (pins HOME before rez is imported)

STUDIO_SCALE = "small"
OUT = os.path.join(rex_vectors.ROOT, "test", "data", "rex-studio-vectors.json")


def load_yaml(path):
    try:
        import yaml
    except ImportError:
        from rez.vendor import yaml
    with open(path) as f:
        return yaml.safe_load(f)


def main():
    studio = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "/tmp/tantalus-rex-studio")
    config = load_yaml(os.path.join(studio, "tantalus.yaml"))
    repo = os.path.join(studio, config["packages_path"][0])
    implicit = config.get("implicit_packages")
    items = []
    for name, wf in config["workflows"].items():
        item = {"name": name, "request": wf["request"]}
        if implicit is not None:
            item["config"] = {"implicit_packages": implicit}
        items.append(item)
    rex_vectors.write_vectors(
        items, repo, OUT, "scripts/rez-oracle/rex_studio_vectors.py",
        extra={"studio": {"scale": STUDIO_SCALE, "implicitPackages": implicit}},
        shells=["bash", "tcsh", "pwsh"], with_actions=False)


if __name__ == "__main__":
    main()
