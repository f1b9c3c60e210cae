/**
 * Who the user is, so the container runs as them: UID, GID, name, home,
 * login shell and supplementary groups (studios give show directories to
 * groups). The numbers come from the kernel and the name from getpwuid, so
 * LDAP/NIS accounts work as well as /etc/passwd ones; group names that
 * /etc/group lacks are asked of NSS through `id` only when a runtime needs
 * them (generated /etc/group for docker).
 *
 * Under sudo (root with SUDO_UID set) the identity is the user who ran sudo:
 * `sudo tantalus run` is how a studio gives artists rootful podman, and the
 * artist must still be themselves inside, with their own home.
 *
 * It sits in the core because two stages ask it: run (who the container runs
 * as) and the builder (whose dev tag, `WORKFLOW:dev-<user>-<hash>`, a resolve
 * other than the configured one gets). One answer, so `sudo tantalus run --dev`
 * and `sudo tantalus build --paths` name the same user.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { userInfo } from "node:os";
import { TantalusError } from "../errors.js";

export interface GroupRef {
  gid: number;
  name?: string;
}

export interface Identity {
  uid: number;
  gid: number;
  user: string;
  /** Primary group's name, when it has one. */
  group?: string;
  home: string;
  /** Login shell ($SHELL, else the passwd entry's). */
  shell?: string;
  /** Supplementary groups, primary group excluded. */
  groups: GroupRef[];
  /** True when taken from SUDO_UID/SUDO_USER rather than the process. */
  viaSudo: boolean;
}

export interface IdOutput {
  uid: number;
  user?: string;
  gid: number;
  group?: string;
  groups: GroupRef[];
}

/**
 * Parse `id` output: `uid=1001(alice) gid=1001(alice) groups=1001(alice),27(sudo)`.
 * Names may contain spaces (Active Directory groups such as "domain users").
 */
export function parseIdOutput(text: string): IdOutput {
  const t = text.trim();
  const one = (key: string): GroupRef => {
    const m = new RegExp(`(?:^|\\s)${key}=(\\d+)(?:\\(([^)]*)\\))?`).exec(t);
    if (!m) throw new TantalusError(`cannot read the ${key} from \`id\` output ${JSON.stringify(t)}`);
    return m[2] === undefined ? { gid: Number(m[1]) } : { gid: Number(m[1]), name: m[2] };
  };
  const u = one("uid");
  const g = one("gid");
  const groupsText = /(?:^|\s)groups=(.*?)(?:\s+context=.*)?$/.exec(t)?.[1] ?? "";
  const groups: GroupRef[] = [];
  for (const m of groupsText.matchAll(/(\d+)(?:\(([^)]*)\))?(?:,|$)/g))
    groups.push(m[2] === undefined ? { gid: Number(m[1]) } : { gid: Number(m[1]), name: m[2] });
  const out: IdOutput = { uid: u.gid, gid: g.gid, groups };
  if (u.name !== undefined) out.user = u.name;
  if (g.name !== undefined) out.group = g.name;
  return out;
}

function runId(args: string[]): IdOutput | undefined {
  const r = spawnSync("id", args, { encoding: "utf8" });
  if (r.status !== 0 || !r.stdout) return undefined;
  return parseIdOutput(r.stdout);
}

function passwdEntry(user: string): string[] | undefined {
  const r = spawnSync("getent", ["passwd", user], { encoding: "utf8" });
  if (r.status !== 0 || !r.stdout) return undefined;
  return r.stdout.trim().split("\n")[0]!.split(":");
}

/** gid → name from /etc/group (NSS sources such as LDAP are asked only when names are needed: see withGroupNames). */
function localGroupNames(): Map<number, string> {
  const out = new Map<number, string>();
  try {
    for (const line of readFileSync("/etc/group", "utf8").split("\n")) {
      const f = line.split(":");
      if (f.length >= 3 && f[0] && /^\d+$/.test(f[2]!)) out.set(Number(f[2]), f[0]);
    }
  } catch {
    // no readable /etc/group: names stay unknown
  }
  return out;
}

/**
 * The process's own identity, without spawning anything (this runs on every
 * `tantalus run`): the kernel's UID/GID/groups, the passwd entry's name and
 * shell, $HOME, and group names from /etc/group.
 */
export function currentIdentity(env: NodeJS.ProcessEnv = process.env): Identity {
  const uid = process.getuid?.() ?? 0;
  const sudoUid = env.SUDO_UID;
  if (uid === 0 && sudoUid && sudoUid !== "0" && /^\d+$/.test(sudoUid)) return sudoIdentity(env, Number(sudoUid));
  const info = passwdOfProcess(uid, env);
  const gid = process.getgid?.() ?? info.gid ?? 0;
  const names = localGroupNames();
  const ref = (g: number): GroupRef => (names.has(g) ? { gid: g, name: names.get(g)! } : { gid: g });
  const out: Identity = {
    uid,
    gid,
    user: info.username,
    home: env.HOME || info.homedir,
    groups: [...new Set(process.getgroups?.() ?? [])].filter((g) => g !== gid).map(ref),
    viaSudo: false,
  };
  const group = names.get(gid);
  if (group !== undefined) out.group = group;
  const shell = env.SHELL || info.shell || undefined;
  if (shell) out.shell = shell;
  return out;
}

/**
 * The process's passwd entry. A UID with none (a container started with an
 * arbitrary --user, some CI runners) makes userInfo throw: the name is then
 * $USER, else the number, as `id -un` would fail and `whoami` say nothing.
 */
function passwdOfProcess(
  uid: number,
  env: NodeJS.ProcessEnv,
): { username: string; homedir: string; shell: string | null; gid?: number } {
  try {
    return userInfo();
  } catch {
    return { username: env.USER || String(uid), homedir: env.HOME || "/", shell: env.SHELL || null };
  }
}

/** The identity with every group named, asking NSS through `id` for the names /etc/group does not have (LDAP, AD). */
export function withGroupNames(id: Identity): Identity {
  if (id.group !== undefined && id.groups.every((g) => g.name !== undefined)) return id;
  const out = runId([id.user]);
  if (!out) return id;
  const names = new Map(out.groups.map((g) => [g.gid, g.name]));
  if (out.group !== undefined) names.set(out.gid, out.group);
  const named = (g: GroupRef): GroupRef =>
    g.name === undefined && names.get(g.gid) !== undefined ? { gid: g.gid, name: names.get(g.gid)! } : g;
  const copy: Identity = { ...id, groups: id.groups.map(named) };
  const primary = id.group ?? names.get(id.gid);
  if (primary !== undefined) copy.group = primary;
  return copy;
}

function sudoIdentity(env: NodeJS.ProcessEnv, uid: number): Identity {
  const name = env.SUDO_USER;
  const id = runId(name ? [name] : [String(uid)]);
  if (!id)
    throw new TantalusError(
      `running under sudo as uid ${uid}${name ? ` (${name})` : ""}, but \`id\` does not know that user`,
    );
  const user = id.user ?? name ?? String(uid);
  const pw = passwdEntry(user);
  const gid = env.SUDO_GID && /^\d+$/.test(env.SUDO_GID) ? Number(env.SUDO_GID) : id.gid;
  const out: Identity = {
    uid,
    gid,
    user,
    // sudo usually resets HOME to root's: the user's own home is in their passwd entry.
    home: pw?.[5] || env.HOME || "/",
    groups: id.groups.filter((g) => g.gid !== gid),
    viaSudo: true,
  };
  if (id.group !== undefined && gid === id.gid) out.group = id.group;
  const shell = pw?.[6];
  if (shell) out.shell = shell;
  return out;
}
