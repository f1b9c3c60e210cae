/**
 * The node store: tasks that start on one node at the same moment (here
 * four in one process, so their checks certainly overlap) pull the image
 * once between them, under the store's farm lock, and each then runs its
 * command (ch-run: no daemon, no global image names). Counted in the
 * registry's access log.
 */
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, it } from "node:test";
import { runFarmTask } from "../src/farm/index.js";
import { defaultRunSettings } from "../src/run/settings.js";
import { startRegistry, type RunningRegistry } from "./image-remote/harness.js";
import { missingTools, pushPinned, removeDir, studioWithImage } from "./builder/fixture.js";

const skip = missingTools("docker-registry", "ch-run");
let scratch: string;
let reg: RunningRegistry;
let pinned: string;

before(async () => {
  if (skip) return;
  const built = await studioWithImage("farm-node-store");
  scratch = built.scratch;
  reg = await startRegistry();
  pinned = pushPinned(built, `${reg.host}/studio/rough_layout:v1`);
});

after(async () => {
  await reg?.stop();
  if (scratch) removeDir(scratch);
});

it(
  "four tasks starting together on one node fetch each blob of the image once and all run",
  { skip, timeout: 300_000 },
  async () => {
    const home = join(scratch, "home");
    const frames = join(scratch, "frames");
    mkdirSync(home);
    mkdirSync(frames);
    const logStart = readFileSync(reg.logFile, "utf8").length;
    const settings = {
      ...defaultRunSettings(),
      runtime: "ch-run" as const,
      display: false,
      gpu: "none" as const,
      mounts: [{ source: frames, target: frames, readOnly: false }],
    };
    const env = { PATH: process.env.PATH, HOME: home, USER: "root", TANTALUS_CACHE_DIR: join(scratch, "cache") };
    const statuses = await Promise.all(
      [1, 2, 3, 4].map((n) =>
        runFarmTask({
          image: pinned,
          workflow: "rough_layout",
          nodeStore: join(scratch, "node-store"),
          settings,
          command: `launch_app -show=dragon > ${frames}/${n}.txt; exit ${n === 2 ? 5 : 0}`,
          insecure: true,
          env,
          log: () => undefined,
        }),
      ),
    );
    assert.deepEqual(statuses, [0, 5, 0, 0]);
    for (const n of [1, 2, 3, 4])
      assert.match(readFileSync(join(frames, `${n}.txt`), "utf8"), /launch_app: show=dragon workflow=rough_layout/);
    const gets = new Map<string, number>();
    for (const m of readFileSync(reg.logFile, "utf8")
      .slice(logStart)
      .matchAll(/"GET \/v2\/[^ "]+\/blobs\/(sha256:[0-9a-f]{64}) HTTP\/[\d.]+" 200/g))
      gets.set(m[1]!, (gets.get(m[1]!) ?? 0) + 1);
    assert.ok(gets.size > 1, "the image's blobs were fetched");
    assert.deepEqual([...new Set(gets.values())], [1], `each blob once: ${JSON.stringify([...gets])}`);
  },
);
