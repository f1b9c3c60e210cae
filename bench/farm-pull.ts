/**
 * Farm start-up: N simulated nodes (one node store each, one `tantalus pull`
 * process per image and node, at most --jobs at once) pull every workflow
 * image of the sample studio by digest from one docker-registry on
 * 127.0.0.1. Reports the bytes the registry served for blobs against the
 * studio's unique blob bytes × N (no blob twice per node store), and the
 * wall time against `skopeo copy` of the same images into N OCI layouts with
 * the same concurrency, in the same run.
 *
 *   npm run bench -- farm-pull [--nodes 16] [--jobs 4]
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateStudio } from "../src/studio/index.js";
import { startRegistry } from "../test/image-remote/harness.js";
import { option } from "./common.js";

const BIN = join(import.meta.dirname, "..", "bin", "tantalus.js");

function proc(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    p.stdout.on("data", (d: Buffer) => (out += d.toString()));
    p.stderr.on("data", (d: Buffer) => (err += d.toString()));
    p.on("close", (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(" ")}: exit ${code}\n${err}`)),
    );
  });
}

async function pool<T>(items: T[], jobs: number, work: (item: T) => Promise<void>): Promise<number> {
  const t0 = process.hrtime.bigint();
  let next = 0;
  await Promise.all(
    Array.from({ length: jobs }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** Bytes the registry sent for blob GETs since `from`, from its access log ("GET …/blobs/… HTTP/1.1" 200 BYTES). */
function blobBytes(log: string, from: number): number {
  let sum = 0;
  for (const m of readFileSync(log, "utf8")
    .slice(from)
    .matchAll(/"GET \/v2\/[^ "]+\/blobs\/sha256:[0-9a-f]{64} HTTP\/[\d.]+" 200 (\d+)/g))
    sum += Number(m[1]);
  return sum;
}

export async function run(args: string[]): Promise<void> {
  const nodes = Number(option(args, "--nodes") ?? 16);
  const jobs = Number(option(args, "--jobs") ?? 4);
  const dir = mkdtempSync(join(tmpdir(), "tantalus-bench-farm-"));
  const reg = await startRegistry();
  try {
    const studio = join(dir, "studio");
    await generateStudio(studio, { scale: "small" });
    const store = join(dir, "store");
    const built = JSON.parse(
      await proc(process.execPath, [
        BIN,
        "build",
        "--all",
        "--allow-audit-errors",
        "--config",
        join(studio, "tantalus.yaml"),
        "--store",
        store,
        "--json",
        "--no-progress",
      ]),
    ) as { images: { workflow: string; digest: string }[] };
    const refs: string[] = [];
    const unique = new Map<string, number>();
    for (const img of built.images) {
      const pushed = JSON.parse(
        await proc(process.execPath, [
          BIN,
          "push",
          img.digest,
          `${reg.host}/studio/${img.workflow.toLowerCase()}:bench`,
          "--insecure",
          "--store",
          store,
          "--json",
        ]),
      ) as { pinned: string };
      refs.push(pushed.pinned);
      const manifest = JSON.parse(readFileSync(join(store, "blobs", "sha256", img.digest.slice(7)), "utf8")) as {
        config: { digest: string };
        layers: { digest: string }[];
      };
      for (const d of [manifest.config.digest, ...manifest.layers.map((l) => l.digest)])
        unique.set(d, statSync(join(store, "blobs", "sha256", d.slice(7))).size);
    }
    const uniqueBytes = [...unique.values()].reduce((a, b) => a + b, 0);
    // A node pulls its images one after the other (skopeo cannot write one OCI layout from two processes); nodes run in parallel.
    const nodeIds = Array.from({ length: nodes }, (_, n) => n);

    const before = readFileSync(reg.logFile, "utf8").length;
    const tantalusSeconds = await pool(nodeIds, jobs, async (n) => {
      for (const ref of refs)
        await proc(process.execPath, [BIN, "pull", ref, "--insecure", "--store", join(dir, `node-${n}`), "--json"]);
    });
    const served = blobBytes(reg.logFile, before);

    const skopeoSeconds = await pool(nodeIds, jobs, async (n) => {
      for (const ref of refs)
        await proc("skopeo", [
          "copy",
          "--quiet",
          "--src-tls-verify=false",
          `docker://${ref}`,
          `oci:${join(dir, `skopeo-${n}`)}:${ref.slice(ref.lastIndexOf("/") + 1, ref.indexOf("@"))}`,
        ]);
    });

    process.stdout.write(
      [
        `farm-pull: ${built.images.length} images, ${unique.size} unique blobs (${uniqueBytes} bytes), ${nodes} node stores, ${jobs} pulls at once`,
        `  registry served ${served} blob bytes = ${(served / uniqueBytes).toFixed(2)} × the unique bytes (expected ${nodes}: no blob twice per node store)`,
        `  tantalus pull: ${tantalusSeconds.toFixed(1)} s; skopeo copy of the same images into ${nodes} OCI layouts: ${skopeoSeconds.toFixed(1)} s (${(tantalusSeconds / skopeoSeconds).toFixed(2)}×)`,
        "",
      ].join("\n"),
    );
  } finally {
    await reg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
