/**
 * Host file names Tantalus packs into layers. Linux names are bytes; OCI
 * layers (PAX `path` records) and the names Tantalus hashes and plans are
 * UTF-8. Node decodes a non-UTF-8 name with U+FFFD replacements, so the name
 * it returns opens nothing (ENOENT deep inside a walk) or, worse, stands for
 * another file. Such a name is refused with one sentence naming the file.
 *
 * Refused rather than packed as raw bytes: every consumer on the way (the
 * plan's byte order, the layer cache key, the audit's image view, the unpacker
 * for ch-run, skopeo and podman reading the PAX headers) would need to carry
 * byte names, and a name that reads differently in every tool is a worse
 * outcome for a package than a clear request to rename one file.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { TantalusError } from "../errors.js";

/** A name as a shell would quote it: printable ASCII and valid UTF-8 as is, other bytes as \xNN. */
export function describeRawName(raw: Buffer): string {
  let out = "";
  let i = 0;
  while (i < raw.length) {
    const b = raw[i]!;
    const n = b < 0x80 ? 0 : b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : -1;
    const seq = n >= 0 ? raw.subarray(i, i + n + 1) : undefined;
    if (
      seq &&
      seq.length === n + 1 &&
      (n === 0 ? b >= 0x20 && b < 0x7f : Buffer.from(seq.toString("utf8"), "utf8").equals(seq))
    ) {
      out += seq.toString("utf8");
      i += n + 1;
    } else {
      out += `\\x${b.toString(16).padStart(2, "0")}`;
      i++;
    }
  }
  return out;
}

/**
 * Throws when one of `names` (as readdir returned them for `dir`) was not
 * valid UTF-8 on disk. Cheap on the common path: only a name holding U+FFFD
 * makes it list the folder again as bytes.
 */
export function checkUtf8Names(dir: string, names: Iterable<string>, what?: string): void {
  for (const name of names) {
    if (!name.includes("\uFFFD")) continue;
    for (const raw of readdirSync(dir, { encoding: "buffer" })) {
      if (Buffer.from(raw.toString("utf8"), "utf8").equals(raw)) continue;
      const file = join(dir, describeRawName(raw));
      throw new TantalusError(
        `${what ? `${what}: ` : ""}${file}: the file name is not valid UTF-8; image layers store names as UTF-8, so rename it (for example: convmv -f latin1 -t utf-8 --notest)`,
      );
    }
  }
}
