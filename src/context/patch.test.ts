import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { patchedRequest } from "./patch.js";
import type { ContextVariant } from "./context.js";

// Rez 3.4's ResolvedContext.get_patched_request, recorded by scripts/rez-oracle/rez_env_habits.py.
const data = JSON.parse(
  fs.readFileSync(
    path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "test", "data", "rez-env-habits.json"),
    "utf8",
  ),
) as {
  patch: {
    request: string[];
    patch: string[];
    strict?: boolean;
    rank?: number;
    original: string[];
    patched: string[];
  }[];
};

function variantOf(qualified: string): ContextVariant {
  const m = /^([^-]+)-(.*)\[(\d*)\]$/.exec(qualified)!;
  return {
    name: m[1]!,
    version: m[2]!,
    index: m[3] ? Number(m[3]) : null,
    repository: "",
    root: "",
    file: "",
    digest: "",
    requires: [],
  };
}

for (const c of data.patch) {
  test(`patched request: ${c.request.join(" ")} + ${c.patch.join(" ") || "(nothing)"}${c.strict ? " strict" : ""}${c.rank ? ` rank ${c.rank}` : ""} is Rez's`, () => {
    const ctx = { request: c.request, resolved: c.original.map(variantOf) };
    assert.deepEqual(patchedRequest(ctx, c.patch, { strict: c.strict, rank: c.rank }), c.patched);
  });
}
