/**
 * Whole-audit throughput: every regular file under a directory of an image
 * (default: this machine's root filesystem as the image, /usr) goes through
 * auditFiles: ELF detection, a load tree per dynamically linked object
 * (emulated ld.so search with the image's ld.so.cache) and classification.
 * Run: npm run bench -- audit-tree [DIR] [MAX_FILES]
 */
import { auditFiles, walkImageFiles } from "../src/audit/audit.js";
import { directoryImageFs } from "../src/linker/imagefs.js";
import { readLdCache } from "../src/linker/ldcache.js";
import { DEBIAN_X86_64 } from "../src/linker/profile.js";

export function run(args: string[]): void {
  const dir = args[0] ?? "/usr";
  const max = Number(args[1] ?? 50_000);
  const image = directoryImageFs("/");
  const t0 = process.hrtime.bigint();
  const files: string[] = [];
  for (const f of walkImageFiles(image, dir)) {
    files.push(f);
    if (files.length >= max) break;
  }
  const t1 = process.hrtime.bigint();
  const cache = readLdCache(image);
  // Everything under /usr is "the base image" here; the classification still runs for every tree.
  const result = auditFiles(image, files, {
    profile: DEBIAN_X86_64,
    cache,
    model: { ownerOf: () => null, requires: () => true },
  });
  const t2 = process.hrtime.bigint();
  const auditMs = Number(t2 - t1) / 1e6;
  console.log(
    JSON.stringify(
      {
        dir,
        files: result.files,
        loadTrees: result.audited,
        findings: result.findings.length,
        walkMs: Math.round(Number(t1 - t0) / 1e6),
        auditMs: Math.round(auditMs),
        filesPerSecond: Math.round(result.files / (auditMs / 1000)),
        treesPerSecond: Math.round(result.audited / (auditMs / 1000)),
      },
      null,
      2,
    ),
  );
}
