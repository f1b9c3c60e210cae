/**
 * The base image against the resolve's `os`, `arch` and `platform` packages.
 * Rez picks variants for an OS it names like `Rocky-9.3` or `Debian-12`
 * (platform_.os: distribution, then version); the base says what it is in
 * /etc/os-release (ID, VERSION_ID). A workflow resolved for Rocky 9.3 and
 * shipped on Debian 11 runs binaries built for another system: that is
 * reported, as a warning (the loader, checked by the rest of the audit, is
 * the judge of whether they start), and an architecture the base's loader
 * does not run is an error (wrong-architecture). `audit.os_releases` maps Rez OS names to
 * releases where the names do not say it ({"CentOS-7.9.2009": "centos 7"}).
 */
import { EM } from "../linker/elf.js";
import type { ImageFs } from "../linker/imagefs.js";
import { resolveImagePath } from "../linker/imagefs.js";
import type { LinkerProfile } from "../linker/profile.js";
import type { Finding } from "./findings.js";

export interface OsRelease {
  /** ID, lower case ("debian", "rocky"). */
  id: string;
  /** ID_LIKE, lower case. */
  idLike: string[];
  /** VERSION_ID ("11", "9.3"); "" when the file has none (Debian testing). */
  versionId: string;
  /** PRETTY_NAME, for messages. */
  prettyName: string;
}

/** The fields of an os-release file (os-release(5): KEY=value, values optionally quoted). */
export function parseOsRelease(text: string): OsRelease {
  const fields = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^\s*([A-Z0-9_]+)=(.*)$/.exec(line);
    if (!m) continue;
    let value = m[2]!.trim();
    const q = value[0];
    if ((q === '"' || q === "'") && value.endsWith(q) && value.length >= 2)
      value = value.slice(1, -1).replace(/\\(["'$`\\])/g, "$1");
    fields.set(m[1]!, value);
  }
  const id = (fields.get("ID") ?? "linux").toLowerCase();
  return {
    id,
    idLike: (fields.get("ID_LIKE") ?? "").toLowerCase().split(/\s+/).filter(Boolean),
    versionId: fields.get("VERSION_ID") ?? "",
    prettyName: fields.get("PRETTY_NAME") ?? `${id} ${fields.get("VERSION_ID") ?? ""}`.trim(),
  };
}

/** The base's os-release (/etc/os-release, else /usr/lib/os-release), or null when it has neither. */
export function readOsRelease(image: ImageFs): OsRelease | null {
  for (const p of ["/etc/os-release", "/usr/lib/os-release"]) {
    const r = resolveImagePath(image, p);
    if (!r.ok || image.lstat(r.path) !== "file") continue;
    const src = image.open(r.path);
    try {
      return parseOsRelease(Buffer.from(src.read(0, Math.min(src.size, 64 * 1024))).toString("utf8"));
    } finally {
      src.close();
    }
  }
  return null;
}

/** A release as the configuration spells it: "rocky 9.3". */
export interface OsReleaseName {
  id: string;
  version: string;
}

/**
 * The release a Rez OS name stands for: the configured mapping, else the
 * name itself read as DISTRIBUTION-VERSION ("Rocky-9.3" → rocky 9.3,
 * "Debian-11.11" → debian 11.11, "Ubuntu-22.04" → ubuntu 22.04).
 */
export function releaseOfRezOs(rezOs: string, mapping: Readonly<Record<string, string>> = {}): OsReleaseName {
  const mapped = mapping[rezOs];
  if (mapped !== undefined) {
    const [id = "", version = ""] = mapped.trim().split(/\s+/);
    return { id: id.toLowerCase(), version };
  }
  const m = /^(.*?)-(\d[\w.]*)$/.exec(rezOs);
  return m ? { id: m[1]!.toLowerCase(), version: m[2]! } : { id: rezOs.toLowerCase(), version: "" };
}

/**
 * Does the base's release satisfy the one Rez named? Same distribution (ID,
 * or one it is like), and the versions agree as far as both go: Rez's
 * "11.11" is Debian's VERSION_ID "11", Rez's "9" any Rocky 9.x.
 */
export function releaseMatches(want: OsReleaseName, have: OsRelease): boolean {
  if (want.id !== have.id && !have.idLike.includes(want.id)) return false;
  if (want.id !== have.id) return want.version === "";
  const a = want.version.split(".").filter(Boolean);
  const b = have.versionId.split(".").filter(Boolean);
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The os-release ID of the demo base. */
const DEMO_ID = "tantalus-demo";

/** Rez's arch names for an ELF machine (platform_.arch: the kernel's `uname -m`). */
const ARCH_NAMES: Record<number, string[]> = {
  [EM.X86_64]: ["x86_64", "amd64"],
  [EM.AARCH64]: ["aarch64", "arm64"],
};

/** The resolved `os`, `arch` and `platform` packages against the base image; findings carry package = that package. */
export function baseOsFindings(
  image: ImageFs,
  profile: LinkerProfile,
  resolved: readonly { name: string; version: string; id: string }[],
  mapping: Readonly<Record<string, string>> = {},
): Finding[] {
  const out: Finding[] = [];
  const os = resolved.find((p) => p.name === "os");
  if (os && os.version !== "") {
    const have = readOsRelease(image);
    const want = releaseOfRezOs(os.version, mapping);
    // A base without os-release (a scratch image) cannot be checked, and the demo base (src/image/demo-base.ts)
    // stands in for whatever OS the studio names: nothing is claimed for either.
    if (have && have.id !== DEMO_ID && !releaseMatches(want, have)) {
      out.push({
        kind: "os-mismatch",
        package: os.id,
        file: "/etc/os-release",
        root: "/etc/os-release",
        message: `the workflow resolves for ${os.version} (${want.id} ${want.version || "any version"}) but the base is ${have.prettyName} (${have.id} ${have.versionId || "without VERSION_ID"}): its variants were chosen for another OS; set implicit_packages' ~os to the base's release, or map ${os.version} in audit.os_releases if they are the same`,
      });
    }
  }
  const arch = resolved.find((p) => p.name === "arch");
  const names = ARCH_NAMES[profile.machine];
  if (arch && arch.version !== "" && names && !names.includes(arch.version.toLowerCase())) {
    out.push({
      kind: "wrong-architecture",
      package: arch.id,
      file: profile.interpreter,
      root: profile.interpreter,
      message: `the workflow resolves for arch ${arch.version} but the base's loader (${profile.interpreter}) runs ${names[0]} programs`,
    });
  }
  const platform = resolved.find((p) => p.name === "platform");
  if (platform && platform.version !== "" && platform.version !== "linux") {
    out.push({
      kind: "wrong-architecture",
      package: platform.id,
      file: profile.interpreter,
      root: profile.interpreter,
      message: `the workflow resolves for platform ${platform.version} but image bases are Linux`,
    });
  }
  return out;
}
