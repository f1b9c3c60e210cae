import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Repositories } from "../rez/repository/index.js";
import { solve } from "../solver/index.js";
import { lateRequiresHook } from "./late.js";

function repository(packages: Record<string, string>): Repositories {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "tantalus-late-"));
  for (const [dir, text] of Object.entries(packages)) {
    fs.mkdirSync(path.join(root, dir), { recursive: true });
    fs.writeFileSync(path.join(root, dir, "package.py"), text);
  }
  return new Repositories([root]);
}

const LATE = (body: string) =>
  `name = 'app'\nversion = '2024.1'\nflavour = 'big'\n\n@late()\ndef requires():\n${body}\n`;

test("@late() requires run during the solve with this = the package and in_context() False", () => {
  const repos = repository({
    "app/2024.1": LATE(
      "    if in_context():\n        return ['nope']\n    if int(str(this.version.major)) >= 2024 and this.flavour == 'big':\n        return ['lib-2']\n    return ['lib-1']",
    ),
    "lib/1": "name = 'lib'\nversion = '1'\n",
    "lib/2": "name = 'lib'\nversion = '2'\n",
  });
  const r = solve(["app"], repos, { lateRequires: lateRequiresHook() });
  assert.equal(r.status, "solved");
  assert.deepEqual(
    r.resolved.map((v) => v.qualifiedName),
    ["lib-2[]", "app-2024.1[]"],
  );
});

test("a late requires that fails, or returns something else than strings, names the package file", () => {
  const failing = repository({ "app/2024.1": LATE("    return [this.no_such_attribute]") });
  assert.throws(
    () => solve(["app"], failing, { lateRequires: lateRequiresHook() }),
    (err: Error) => {
      assert.match(
        err.message,
        /app\/2024\.1\/package\.py:7: app-2024\.1: @late\(\) requires failed: .*no attribute 'no_such_attribute'/,
      );
      return true;
    },
  );
  const wrong = repository({ "app/2024.1": LATE("    return 'lib-1'") });
  assert.throws(
    () => solve(["app"], wrong, { lateRequires: lateRequiresHook() }),
    /must return a list of requirement strings/,
  );
});
