/**
 * Layer writing throughput: our writer (walk → tar-stream → sha256 → compressor
 * → sha256 → store) against GNU tar piped into gzip / zstd on the same files,
 * the machine's reference. Also times a layer-cache hit (fingerprint + lookup).
 *
 *   npm run bench -- image-layers [DIR ...]     default: ~300 MB of /usr/lib
 *
 * MB/s are of the uncompressed tar; "ratio" is compressed/uncompressed size.
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import {
  OciStore,
  fingerprintLayerSpec,
  writeLayer,
  type LayerCompression,
  type LayerSpec,
} from "../src/image/index.js";
import { cpuNow, shell } from "./common.js";

const DEFAULT_DIRS = [
  "/usr/lib/gcc",
  "/usr/lib/python3.11",
  "/usr/lib/python3",
  "/usr/lib/x86_64-linux-gnu/perl",
  "/usr/lib/llvm-14/bin",
];

interface Row {
  what: string;
  seconds: number;
  mbps: number;
  /** user+sys CPU seconds of all processes/threads involved: robust when the machine is shared. */
  cpu: number;
  ratio?: number;
}

export async function run(args: string[]): Promise<void> {
  const dirs = (args.length ? args : DEFAULT_DIRS).filter((d) => existsSync(d));
  if (dirs.length === 0) throw new Error("no input directories exist");
  // GNU tar over the same members: -C parent per directory, sorted like ours.
  const tarArgs = dirs.map((d) => `-C '${dirname(d)}' '${basename(d)}'`).join(" ");
  const gnuTar = `tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@1 -cf - ${tarArgs}`;
  const rawBytes = Number(shell(`${gnuTar} | wc -c`).out.trim());
  const mb = rawBytes / 1e6;
  const spec: LayerSpec = { entries: dirs.map((d) => ({ type: "tree" as const, source: d, path: d })) };
  process.stdout.write(`input: ${dirs.join(" ")}\nGNU tar size: ${mb.toFixed(1)} MB; warm-up read...\n`);
  shell(`${gnuTar} > /dev/null`); // page cache

  const rows: Row[] = [];
  const gnu = (name: string, cmd: string) => {
    const r = shell(cmd);
    const size = Number(r.out.trim());
    rows.push({
      what: name,
      seconds: r.seconds,
      mbps: mb / r.seconds,
      cpu: r.cpu,
      ...(size > 0 ? { ratio: size / rawBytes } : {}),
    });
  };
  const storeDir = await mkdtemp(join(tmpdir(), "tantalus-bench-store-"));
  try {
    const store = await OciStore.open(storeDir);
    const ours = async (name: string, compression: LayerCompression, level?: number) => {
      const t0 = process.hrtime.bigint();
      const c0 = cpuNow();
      const res = await writeLayer(store, spec, level === undefined ? { compression } : { compression, level });
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      rows.push({
        what: name,
        seconds,
        mbps: res.uncompressedSize / 1e6 / seconds,
        cpu: cpuNow() - c0,
        ratio: res.descriptor.size / res.uncompressedSize,
      });
    };
    // Each pair runs back to back so both see the same machine load.
    gnu("GNU tar | cat", `${gnuTar} | cat > /dev/null`);
    gnu("GNU tar | sha256sum", `${gnuTar} | sha256sum > /dev/null`);
    await ours("tantalus none (tar+sha256)", "none");
    gnu("GNU tar | gzip -1", `${gnuTar} | gzip -1 | wc -c`);
    await ours("tantalus gzip-1", "gzip", 1);
    gnu("GNU tar | gzip -6", `${gnuTar} | gzip -6 | wc -c`);
    await ours("tantalus gzip-6", "gzip", 6);
    gnu("GNU tar | zstd -3", `${gnuTar} | zstd -3 -q -c | wc -c`);
    await ours("tantalus zstd-3", "zstd", 3);
    const key = await fingerprintLayerSpec(spec);
    await writeLayer(store, spec, { compression: "zstd", cacheKey: key });
    const t0 = process.hrtime.bigint();
    const c0 = cpuNow();
    const hit = await writeLayer(store, spec, { compression: "zstd", cacheKey: await fingerprintLayerSpec(spec) });
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    if (!hit.cached) throw new Error("expected a cache hit");
    rows.push({ what: "tantalus cache hit (fingerprint+lookup)", seconds, mbps: mb / seconds, cpu: cpuNow() - c0 });
  } finally {
    await rm(storeDir, { recursive: true, force: true });
  }

  const w = Math.max(...rows.map((r) => r.what.length));
  process.stdout.write(`${"operation".padEnd(w)}  wall s  MB/s wall   CPU s  MB/CPU-s  ratio\n`);
  for (const r of rows) {
    process.stdout.write(
      `${r.what.padEnd(w)}  ${r.seconds.toFixed(2).padStart(6)}  ${r.mbps.toFixed(1).padStart(9)}  ${r.cpu.toFixed(2).padStart(6)}  ${(mb / r.cpu).toFixed(1).padStart(8)}  ${r.ratio === undefined ? "" : r.ratio.toFixed(3)}\n`,
    );
  }
  const row = (n: string) => rows.find((r) => r.what === n)!;
  const cmp = (ours: string, gnuName: string) =>
    `wall ${(row(ours).mbps / row(gnuName).mbps).toFixed(2)}x, CPU ${(row(gnuName).cpu / row(ours).cpu).toFixed(2)}x`;
  process.stdout.write(
    `ours vs GNU (higher = ours faster): gzip-1 ${cmp("tantalus gzip-1", "GNU tar | gzip -1")}; gzip-6 ${cmp("tantalus gzip-6", "GNU tar | gzip -6")}; zstd-3 ${cmp("tantalus zstd-3", "GNU tar | zstd -3")}\n`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await run(process.argv.slice(2));
