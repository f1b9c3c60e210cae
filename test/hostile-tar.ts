/**
 * Hostile archives for the hardening tests: tar-stream writes whatever
 * header it is given (names with "..", absolute names, whiteouts of "..",
 * device nodes, setuid modes, names past 255 bytes), as an attacker's tool would.
 */
import { gzipSync } from "node:zlib";
import tar, { type Header } from "tar-stream";
import { MediaType, sha256, type LayerDescriptor, type OciStore } from "../src/image/index.js";

export type Member = Partial<Header> & { name: string; body?: string | Buffer };

export async function tarOf(members: Member[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of pack) chunks.push(c as Buffer);
  })();
  for (const m of members) {
    const { body, ...header } = m;
    const type = header.type ?? "file";
    const h = { mode: type === "directory" ? 0o755 : 0o644, mtime: new Date(1000), ...header, type };
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (type === "file") pack.entry(h, body ?? "", cb);
      else pack.entry(h, cb);
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** A stored layer blob holding `members`. */
export async function layerOf(store: OciStore, members: Member[], gzip = false): Promise<LayerDescriptor> {
  const raw = await tarOf(members);
  const blob = gzip ? gzipSync(raw) : raw;
  const { digest, size } = await store.putBlob(blob);
  return { mediaType: gzip ? MediaType.LayerGzip : MediaType.Layer, digest, size, diffId: sha256(raw) };
}
