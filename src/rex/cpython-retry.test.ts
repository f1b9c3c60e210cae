// integration: `python: cpython` starts the host's python3
/**
 * When the built-in evaluator refuses a construct half-way through a package's
 * commands(), rex undoes what they did and runs them again in CPython: the
 * second run must start from what the first found, `this.x = ...` included,
 * as Rez runs commands() once.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Repositories } from "../rez/repository/index.js";
import { interpretContext } from "./interpret.js";

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "tantalus-rex-retry-"));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

test("a CPython retry of commands() does not see the first attempt's this.x assignments", () => {
  const root = path.join(scratch, "tagger", "1.0");
  fs.mkdirSync(root, { recursive: true });
  fs.writeFileSync(
    path.join(root, "package.py"),
    [
      "name = 'tagger'",
      "version = '1.0'",
      "def commands():",
      "    import re",
      "    env.SEEN_BEFORE = str(hasattr(this, 'attempt'))",
      "    this.attempt = 'first'",
      "    this.attempt = this.attempt + '+'",
      "    # a verbose regular expression: the built-in evaluator refuses it only as it runs",
      "    env.TAG = re.sub(r'(?x) \\d+  # digits', 'N', 'v12') + this.attempt",
      "",
    ].join("\n"),
  );
  const repos = new Repositories([scratch], { cache: false, python: { evaluator: "cpython" } });
  const variant = repos.family("tagger")![0]!.variants[0]!;
  // Loaded by the built-in evaluator: the refusal comes only while the commands run.
  assert.equal(variant.package.definition.evaluator, undefined);
  const { environ } = interpretContext([variant], {
    request: ["tagger"],
    implicitPackages: [],
    packagePaths: [scratch],
    system: { platform: "linux", arch: "x86_64", os: "debian-12" },
    timestamp: 1700000000,
    shell: "bash",
  });
  assert.equal(environ.SEEN_BEFORE, "False");
  assert.equal(environ.TAG, "vNfirst+");
});
