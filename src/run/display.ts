/**
 * The user's display inside the container: X11 (DISPLAY, the /tmp/.X11-unix
 * socket directory, an authorisation cookie) and Wayland (the compositor
 * socket in XDG_RUNTIME_DIR).
 *
 * The X cookie is copied, not the user's ~/.Xauthority: entries for this
 * display are rewritten to the FamilyWild address so they match whatever
 * hostname the container has (what `xauth nlist | sed 's/^..../ffff/'` does),
 * and written to a private file in the run cache (mode 0600) that is mounted
 * read-only at the same path. QT_X11_NO_MITSHM=1 because the X server cannot
 * attach shared memory from the container's IPC namespace.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../util/atomic.js";
import { cacheSubdir } from "./cache.js";
import type { Mount } from "./mounts.js";

export const FAMILY_LOCAL = 256;
export const FAMILY_WILD = 65535;
export const FAMILY_INTERNET = 0;

export interface XauthEntry {
  family: number;
  address: Buffer;
  number: string;
  name: string;
  data: Buffer;
}

export function parseXauthority(buf: Buffer): XauthEntry[] {
  const out: XauthEntry[] = [];
  let off = 0;
  const field = (): Buffer => {
    if (off + 2 > buf.length) throw new Error("truncated");
    const len = buf.readUInt16BE(off);
    off += 2;
    if (off + len > buf.length) throw new Error("truncated");
    const b = buf.subarray(off, off + len);
    off += len;
    return b;
  };
  while (off < buf.length) {
    if (off + 2 > buf.length) break;
    const family = buf.readUInt16BE(off);
    off += 2;
    const address = Buffer.from(field());
    const number = field().toString("latin1");
    const name = field().toString("latin1");
    const data = Buffer.from(field());
    out.push({ family, address, number, name, data });
  }
  return out;
}

export function serializeXauthority(entries: readonly XauthEntry[]): Buffer {
  const parts: Buffer[] = [];
  const u16 = (n: number) => {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(n);
    return b;
  };
  const field = (b: Buffer) => {
    parts.push(u16(b.length), b);
  };
  for (const e of entries) {
    parts.push(u16(e.family));
    field(e.address);
    field(Buffer.from(e.number, "latin1"));
    field(Buffer.from(e.name, "latin1"));
    field(e.data);
  }
  return Buffer.concat(parts);
}

export interface ParsedDisplay {
  /** "" for a local (Unix socket) display. */
  host: string;
  number: string;
}

/** `:0`, `:0.0`, `unix:1`, `localhost:10.0`, `host.studio:0`. */
export function parseDisplay(display: string): ParsedDisplay | undefined {
  const m = /^(.*):(\d+)(?:\.\d+)?$/.exec(display);
  if (!m) return undefined;
  const host = m[1] === "unix" ? "" : m[1]!;
  return { host, number: m[2]! };
}

/** The cookies for display `number`, as FamilyWild entries (first of each auth scheme). */
export function cookiesForDisplay(entries: readonly XauthEntry[], number: string): XauthEntry[] {
  const out: XauthEntry[] = [];
  const names = new Set<string>();
  for (const e of entries) {
    if (e.number !== number || names.has(e.name)) continue;
    names.add(e.name);
    out.push({ family: FAMILY_WILD, address: Buffer.alloc(0), number: e.number, name: e.name, data: e.data });
  }
  return out;
}

export interface DisplayPlan {
  env: Array<[string, string]>;
  mounts: Mount[];
  notes: string[];
}

export interface DisplayContext {
  env: NodeJS.ProcessEnv;
  home: string;
  uid: number;
  cacheDir: string;
  /** Host network: TCP displays (ssh -X's localhost:10) are reachable. */
  hostNetwork: boolean;
  /** Where X11 sockets live (tests point this elsewhere). */
  x11SocketDir?: string;
}

export function planDisplay(ctx: DisplayContext): DisplayPlan {
  const plan: DisplayPlan = { env: [], mounts: [], notes: [] };
  const display = ctx.env.DISPLAY;
  if (display) {
    plan.env.push(["DISPLAY", display]);
    const parsed = parseDisplay(display);
    const socketDir = ctx.x11SocketDir ?? "/tmp/.X11-unix";
    if (!parsed) plan.notes.push(`DISPLAY=${display} is not host:number; passed as is`);
    else if (parsed.host === "") {
      if (existsSync(socketDir)) plan.mounts.push({ source: socketDir, target: "/tmp/.X11-unix", readOnly: true });
      else
        plan.notes.push(
          `DISPLAY=${display} but ${socketDir} does not exist: the X server is not reachable from the container`,
        );
    } else if (!ctx.hostNetwork && (parsed.host === "localhost" || parsed.host.startsWith("127."))) {
      plan.notes.push(
        `DISPLAY=${display} is a TCP display on this machine (ssh -X?): it is reachable only with the host network`,
      );
    }
    const authFile = ctx.env.XAUTHORITY || join(ctx.home, ".Xauthority");
    if (parsed && existsSync(authFile)) {
      let cookies: XauthEntry[] = [];
      try {
        cookies = cookiesForDisplay(parseXauthority(readFileSync(authFile)), parsed.number);
      } catch (e) {
        plan.notes.push(`cannot read X authority file ${authFile}: ${(e as Error).message}`);
      }
      if (cookies.length > 0) {
        const file = join(cacheSubdir(ctx.cacheDir, "display"), `xauth-${ctx.uid}-${parsed.number}`);
        writeFileAtomic(file, serializeXauthority(cookies), 0o600);
        plan.mounts.push({ source: file, target: file, readOnly: true });
        plan.env.push(["XAUTHORITY", file]);
      } else plan.notes.push(`no cookie for display :${parsed.number} in ${authFile}`);
    }
    plan.env.push(["QT_X11_NO_MITSHM", "1"]);
  }
  const wayland = ctx.env.WAYLAND_DISPLAY;
  if (wayland) {
    const runtimeDir = ctx.env.XDG_RUNTIME_DIR;
    const socket = wayland.startsWith("/") ? wayland : runtimeDir ? join(runtimeDir, wayland) : undefined;
    if (socket && existsSync(socket)) {
      plan.mounts.push({ source: socket, target: socket, readOnly: false });
      plan.env.push(["WAYLAND_DISPLAY", wayland]);
      if (runtimeDir) plan.env.push(["XDG_RUNTIME_DIR", runtimeDir]);
    } else
      plan.notes.push(
        `WAYLAND_DISPLAY=${wayland} but its socket ${socket ?? "(XDG_RUNTIME_DIR unset)"} does not exist`,
      );
  }
  return plan;
}
