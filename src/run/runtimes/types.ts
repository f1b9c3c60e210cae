/**
 * A container runtime as `tantalus run` uses it: find it on this machine,
 * make a workflow image available to it, and turn a runtime-neutral
 * LaunchPlan into its exact command line.
 */
import type { BlobReader, ImageReader } from "../../image/layout/interfaces.js";
import type { ResolvedImage } from "../../image/types.js";
import type { Identity } from "../../util/identity.js";
import type { Mount } from "../mounts.js";
import type { AccountFiles } from "../passwd.js";

export const RUNTIME_NAMES = ["podman", "docker", "apptainer", "ch-run"] as const;
export type RuntimeName = (typeof RUNTIME_NAMES)[number];

export function isRuntimeName(s: string): s is RuntimeName {
  return (RUNTIME_NAMES as readonly string[]).includes(s);
}

export interface RuntimeInfo {
  name: RuntimeName;
  /** Usable for `run` right now. */
  available: boolean;
  /** The executable. */
  path?: string;
  version?: string;
  /** podman/docker: runs without root privileges (user namespaces). */
  rootless?: boolean;
  /** Why it is not available, or what limits it. */
  problems: string[];
  /** What to install or change to fix the problems. */
  fixes: string[];
  /** Runtime-specific facts (docker host, podman graph root, singularity vs apptainer...). */
  details: Record<string, string>;
}

/** The image as the run layer gets it from ensureImage: in our store, resolved. */
export interface WorkflowImage {
  workflow: string;
  /** Read only: runtimes export or unpack the image, never change the store. */
  store: BlobReader & ImageReader;
  /** The tag in the store (or the manifest digest). */
  ref: string;
  image: ResolvedImage;
}

/** How the runtime names the image once it has it. */
export interface PreparedImage {
  /** Argument that names the image on the runtime's command line. */
  ref: string;
  /** What made it available (or would, in a dry run): shell command lines or descriptions, for the user to see. */
  steps: string[];
  /** Whether it had to be loaded/converted now. */
  loaded: boolean;
}

/** host: the host's network (licence servers, X11 over TCP); bridge: a private network with NAT; none: no network. */
export type NetworkMode = "host" | "bridge" | "none";

export interface HostEntry {
  host: string;
  address: string;
}

/** Everything about one launch, independent of the runtime. */
export interface LaunchPlan {
  workflow: string;
  identity: Identity;
  mounts: Mount[];
  /** Variables set in the container, in order (later wins). */
  env: Array<[string, string]>;
  workdir: string;
  network: NetworkMode;
  addHosts: HostEntry[];
  gpu: { nvidia: boolean; dri?: string };
  /** Allocate a terminal (stdin and stdout are terminals). */
  tty: boolean;
  /** Arguments to the image's entrypoint: [] for the shell, ["-c", CMD] for a command. */
  args: string[];
  /** Generated /etc/passwd and /etc/group to mount (runtimes that do not create the user). */
  accounts?: AccountFiles;
  /** The image config's Env: runtimes that do not apply it themselves (ch-run) set it first. */
  imageEnv: string[];
  notes: string[];
  /**
   * Notes a user needs once per workflow, not at every launch (they describe
   * how the workflow always behaves, e.g. that the working folder is not
   * mounted); `key` names the note in the per-user record of those shown.
   */
  onceNotes: { key: string; note: string }[];
}

export interface RunContext {
  env: NodeJS.ProcessEnv;
  cacheDir: string;
  dryRun: boolean;
  /** Progress lines for the user (stderr). */
  log: (line: string) => void;
}

export interface Runtime {
  readonly name: RuntimeName;
  /** Cheap: PATH lookups and file checks only (it runs on every `tantalus run`). */
  detect(ctx: RunContext): RuntimeInfo;
  /** Thorough: versions and readiness, for `tantalus doctor`. */
  diagnose(ctx: RunContext): Promise<RuntimeInfo>;
  /** Whether this runtime needs generated passwd/group files for `identity`. */
  needsAccountFiles(info: RuntimeInfo, identity: Identity): boolean;
  /** Make the image available to the runtime (load, convert, unpack), cached; in a dry run only say how. */
  prepare(image: WorkflowImage, info: RuntimeInfo, ctx: RunContext): Promise<PreparedImage>;
  /** Last adjustments right before launching (ch-run: mount points inside the unpacked tree). */
  beforeLaunch?(plan: LaunchPlan, prepared: PreparedImage, ctx: RunContext): Promise<void>;
  /** The exact command line (argv[0] is the executable). */
  command(plan: LaunchPlan, prepared: PreparedImage, info: RuntimeInfo): string[];
  /** podman/docker with a tty put the host terminal in raw mode: Ctrl-C arrives as a byte, not a signal. */
  rawTerminal(plan: LaunchPlan): boolean;
}
