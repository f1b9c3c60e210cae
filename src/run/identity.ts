/**
 * Who the user is, so the container runs as them: UID, GID, name, home,
 * login shell and supplementary groups (studios give show directories to
 * groups). Read with `id`, which asks NSS, so LDAP/NIS accounts work as well
 * as /etc/passwd ones.
 *
 * Under sudo (root with SUDO_UID set) the identity is the user who ran sudo:
 * `sudo tantalus run` is how a studio gives artists rootful podman, and the
 * artist must still be themselves inside, with their own home.
 */
import { spawnSync } from "node:child_process";
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
  for (const m of groupsText.matchAll(/(\d+)(?:\(([^)]*)\))?(?:,|$)/g)) groups.push(m[2] === undefined ? { gid: Number(m[1]) } : { gid: Number(m[1]), name: m[2] });
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

export function currentIdentity(env: NodeJS.ProcessEnv = process.env): Identity {
  const uid = process.getuid?.() ?? 0;
  const sudoUid = env.SUDO_UID;
  if (uid === 0 && sudoUid && sudoUid !== "0" && /^\d+$/.test(sudoUid)) return sudoIdentity(env, Number(sudoUid));
  const info = userInfo();
  const id = runId([]);
  const gid = id?.gid ?? process.getgid?.() ?? 0;
  const out: Identity = {
    uid,
    gid,
    user: id?.user ?? info.username,
    home: env.HOME || info.homedir,
    groups: (id?.groups ?? (process.getgroups?.() ?? []).map((g) => ({ gid: g }))).filter((g) => g.gid !== gid),
    viaSudo: false,
  };
  if (id?.group !== undefined) out.group = id.group;
  const shell = env.SHELL || info.shell || undefined;
  if (shell) out.shell = shell;
  return out;
}

function sudoIdentity(env: NodeJS.ProcessEnv, uid: number): Identity {
  const name = env.SUDO_USER;
  const id = runId(name ? [name] : [String(uid)]);
  if (!id) throw new TantalusError(`running under sudo as uid ${uid}${name ? ` (${name})` : ""}, but \`id\` does not know that user`);
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
