import fs from "node:fs";
import os from "node:os";
import { spawnSync } from "node:child_process";
import { Interpreter, PyTuple, parseModule, type PyValue } from "./python/index.js";
import { reImporter } from "./python/regex.js";

/** Rez's `system` facts: what its implicit packages and rex's `system` object are made of. */
export interface SystemInfo {
  platform: string;
  arch: string;
  os: string;
}

let cached: SystemInfo | undefined;

/** The host's values, computed as Rez's platform_.py does (lsb-release, lsb_release -a, os-release). */
export function hostSystem(): SystemInfo {
  cached ??= { platform: os.platform(), arch: rezArch(os.arch()), os: detectOs() };
  return cached;
}

/** Rez's default implicit packages for a system. */
export function implicitPackagesFor(sys: SystemInfo): string[] {
  return [`~platform==${sys.platform}`, `~arch==${sys.arch}`, `~os==${sys.os}`];
}

/** Rez's platform_map: per function ("arch", "os"), regular expression -> replacement. */
export type PlatformMap = Readonly<Record<string, Readonly<Record<string, string>>>>;

/**
 * The system as Rez reports it under a platform_map (rez/utils/platform_mapped.py):
 * arch and os go through their entries in order, and the first expression that
 * replaces something gives the value (Python's re.subn, so `\1` back-references
 * work as in Rez). The platform is not mapped, as in Rez.
 */
export function mapPlatform(sys: SystemInfo, map: PlatformMap): SystemInfo {
  return { platform: sys.platform, arch: mapped("arch", sys.arch, map), os: mapped("os", sys.os, map) };
}

const SUBN = parseModule("import re\nresult = re.subn(pattern, replacement, text)\n", "<platform_map>");

function mapped(field: "arch" | "os", value: string, map: PlatformMap): string {
  const entry = map[field];
  if (!entry) return value;
  for (const [pattern, replacement] of Object.entries(entry)) {
    const globals = new Map<string, PyValue>([
      ["pattern", pattern],
      ["replacement", replacement],
      ["text", value],
    ]);
    try {
      new Interpreter({ importer: reImporter }).execModule(SUBN, globals);
    } catch (err) {
      throw new Error(
        `platform_map.${field}[${JSON.stringify(pattern)}]: ${(err as { detail?: string }).detail ?? (err as Error).message}`,
        { cause: err },
      );
    }
    const [result, changes] = (globals.get("result") as PyTuple).items as [string, number];
    if (changes > 0) return result;
  }
  return value;
}

function rezArch(nodeArch: string): string {
  // Rez reports platform.machine(); Node names x86_64 "x64" and aarch64 "arm64".
  return ({ x64: "x86_64", arm64: "aarch64", ia32: "i686" } as Record<string, string>)[nodeArch] ?? nodeArch;
}

function unquote(s: string): string {
  return (s.startsWith("'") && s.endsWith("'")) || (s.startsWith('"') && s.endsWith('"')) ? s.slice(1, -1) : s;
}

function parse(text: string, distKey: string, relKey: string): [string?, string?] {
  let dist: string | undefined;
  let rel: string | undefined;
  for (const line of text.trim().split("\n")) {
    if (line.startsWith(distKey)) dist = unquote(line.slice(distKey.length).trim());
    else if (line.startsWith(relKey)) rel = unquote(line.slice(relKey.length).trim());
  }
  return [dist, rel];
}

function detectOs(): string {
  let dist: string | undefined;
  let rel: string | undefined;
  const done = () => (dist && rel ? `${dist}-${rel}` : undefined);
  if (fs.existsSync("/etc/lsb-release")) {
    [dist, rel] = parse(fs.readFileSync("/etc/lsb-release", "utf8"), "DISTRIB_ID=", "DISTRIB_RELEASE=");
    if (done()) return done()!;
  }
  const lsb = spawnSync("/usr/bin/env", ["lsb_release", "-a"], { encoding: "utf8" });
  if (lsb.status === 0) {
    const [d, r] = parse(lsb.stdout, "Distributor ID:", "Release:");
    dist ??= d;
    rel ??= r;
    if (done()) return done()!;
  }
  if (fs.existsSync("/etc/os-release")) {
    const [d, r] = parse(fs.readFileSync("/etc/os-release", "utf8"), "ID=", "VERSION_ID=");
    dist ??= d;
    rel ??= r;
    if (done()) return done()!;
  }
  return `${os.type()}-${os.release()}`;
}
