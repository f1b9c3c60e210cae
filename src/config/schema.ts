import { z } from "zod";
import { parseBaseReference } from "../image/base-reference.js";
import { parseFilterRule } from "../solver/filter.js";
import { ordererFromPod } from "../solver/order.js";
import { closestName } from "../util/suggest.js";

/**
 * The tantalus.yaml format. Objects are strict (an unknown key is an error,
 * since a misspelt option silently ignored is worse than a refusal) and every
 * optional section has defaults, so the parsed value is complete.
 */

/** Rez package name (rez/utils/formatting.py PACKAGE_NAME_REGSTR). */
const PACKAGE_NAME = /^[a-zA-Z_0-9](\.?[a-zA-Z0-9_]+)*$/;
const WORKFLOW_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** A name or a glob of names ("LC_*"). */
const ENV_PATTERN = /^[A-Za-z_*?][A-Za-z0-9_*?]*$/;
/** A Rez requirement: optional weak/conflict prefix, a package name, then a version range without spaces. */
const REQUIREMENT = /^[~!]?[a-zA-Z_0-9](\.?[a-zA-Z0-9_]+)*([-=<>+@#~^,.|!*A-Za-z0-9_]*)$/;
const GLOB = /^[A-Za-z0-9_.*?[\]!-]+$/;
/** Base image: "demo", a registry reference, or TRANSPORT:PATH for local images and root file systems. */
const BASE_IMAGE =
  /^(demo|(oci|oci-archive|docker-archive|rootfs|containers-storage):.+|docker:\/\/.+|[a-z0-9][a-z0-9._\-/:@]*)$/;
const SONAME = /^[A-Za-z0-9_+.*?[\]-]+$/;

const requirement = z
  .string()
  .regex(REQUIREMENT, { error: "expected a Rez requirement such as maya-2025 or ~os==Rocky-9.3" });
const absolutePath = z.string().startsWith("/", { error: "expected an absolute path" });

export const MountSchema = z.strictObject({
  source: z
    .string()
    .min(1)
    .describe("Host path: absolute, relative to the configuration's directory, or starting with ~."),
  target: z
    .string()
    .regex(/^(\/|~)/, { error: "expected an absolute path or one starting with ~" })
    .describe("Container path: absolute, or starting with ~ (the home directory of the user inside)."),
  readonly: z.boolean().default(false),
});

export const WorkflowSchema = z.strictObject({
  description: z.string().optional(),
  request: z.array(requirement).min(1, { error: "a workflow needs at least one requirement" }),
  mounts: z.array(MountSchema).default([]),
  env: z
    .record(z.string().regex(ENV_NAME, { error: "expected an environment variable name" }), z.string())
    .default({})
    .describe("Variables set in the workflow's container, after the Rez environment."),
});

export const TierSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, { error: "expected a tier name (letters, digits, _ and -)" }),
  packages: z
    .array(z.string().regex(GLOB, { error: "expected a package name or glob" }))
    .default([])
    .describe('Package-name globs; a package\'s own `tantalus = {"layer": ...}` takes precedence.'),
});

export const LayersSchema = z
  .strictObject({
    budget: z
      .int()
      .min(1)
      .max(125)
      .default(100)
      .describe(
        "Most layers a workflow image may have, base layers included; at most 125, the layer count dockerd refuses beyond (moby layer_store maxLayerDepth).",
      ),
    tiers: z.array(TierSchema).default([]),
  })
  .superRefine((layers, ctx) => {
    const seen = new Set<string>();
    layers.tiers.forEach((t, i) => {
      if (seen.has(t.name))
        ctx.addIssue({ code: "custom", path: ["tiers", i, "name"], message: `tier ${t.name} is defined twice` });
      seen.add(t.name);
    });
  });

export const ImageSchema = z.strictObject({
  compression: z.enum(["gzip", "zstd", "none"]).default("gzip"),
  root_map: z
    .record(absolutePath, absolutePath)
    .default({})
    .describe('Host repository root -> path inside the image, e.g. {"/mnt/rez": "/studio/packages"}.'),
});

export const AuditSchema = z.strictObject({
  allow_system: z
    .array(z.string().regex(SONAME, { error: "expected a SONAME or glob" }))
    .default(["libc.so.6", "libm.so.6", "libdl.so.2", "libpthread.so.0", "librt.so.1", "ld-linux-*.so.*"])
    .describe("SONAME globs the base image provides and the audit never reports."),
  os_releases: z
    .record(z.string(), z.string().regex(/^\S+(\s+\S+)?$/, { error: 'expected "ID VERSION_ID", e.g. "rocky 9.3"' }))
    .default({})
    .describe(
      'Rez OS names -> the base\'s /etc/os-release ID and VERSION_ID, e.g. {"CentOS-7.9.2009": "centos 7"}; default: the name read as DISTRIBUTION-VERSION.',
    ),
});

export const PackageOverrideSchema = z.strictObject({
  add_requires: z
    .array(requirement)
    .default([])
    .describe("Requirements added to the package's own (a missing dependency declaration)."),
  repair: z
    .strictObject({
      system_libraries: z
        .array(z.string().regex(SONAME, { error: "expected a SONAME" }))
        .default([])
        .describe("Libraries taken from the base image (or a donor directory) into the repair layer."),
      donor_dirs: z
        .array(z.string().min(1))
        .default([])
        .describe("Directories, relative to this file, searched for system_libraries before the base image."),
    })
    .optional()
    .describe("Fixes applied while building images."),
  ignore: z
    .array(
      z.strictObject({
        soname: z.string().regex(SONAME, { error: "expected a SONAME or glob" }),
        reason: z.string().min(1, { error: "say why the finding is ignored" }),
      }),
    )
    .default([])
    .describe("Findings the audit should not report for this package, each with a reason."),
  layer: z.string().optional().describe('Layer tier of the package, as `tantalus = {"layer": ...}` in its package.py.'),
});

export const RunSchema = z.strictObject({
  runtime: z
    .enum(["auto", "podman", "docker", "apptainer", "ch-run"])
    .default("auto")
    .describe("Container runtime; auto takes the first usable of podman, docker, apptainer, ch-run."),
  network: z
    .enum(["host", "bridge", "none"])
    .default("host")
    .describe(
      "host shares the host network (licence servers reachable as on the workstation); bridge gives a private network with licence_servers added as hosts; none isolates.",
    ),
  licence_servers: z
    .array(z.string().regex(/^[A-Za-z0-9.-]+(=[0-9a-fA-F:.]+)?$/, { error: "expected HOST or HOST=IP" }))
    .default([])
    .describe("Licence server hosts added to the container's /etc/hosts on a bridge network (HOST or HOST=IP)."),
  mounts: z.array(MountSchema).default([]).describe("Mounts of every workflow (each workflow may add its own)."),
  env: z
    .array(z.string().regex(ENV_PATTERN, { error: "expected a variable name or glob" }))
    .default([])
    .describe("Host variables passed into the container (names or globs), besides the licence variables."),
  gpu: z
    .enum(["auto", "all", "none"])
    .default("auto")
    .describe("GPU pass-through; auto passes the NVIDIA GPUs when the host has them."),
  display: z.boolean().default(true).describe("Pass the X11/Wayland display through."),
});

/** A Kubernetes object name (DNS-1123 subdomain): a PersistentVolumeClaim or a Secret. */
const K8S_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const k8sName = z
  .string()
  .regex(K8S_NAME, { error: "expected a Kubernetes object name (lower-case letters, digits, - and .)" });

export const FarmVolumeSchema = z
  .strictObject({
    target: absolutePath.describe("Path inside the farm task's container."),
    host_path: absolutePath.optional().describe("A path of every node (hostPath)."),
    nfs: z
      .strictObject({ server: z.string().min(1), path: absolutePath })
      .optional()
      .describe("An NFS export the pod mounts itself: { server, path }."),
    pvc: k8sName.optional().describe("A PersistentVolumeClaim of the job's namespace."),
    sub_path: z.string().min(1).optional().describe("Mount only this folder of the volume."),
    readonly: z.boolean().default(true),
  })
  .refine((v) => [v.host_path, v.nfs, v.pvc].filter((x) => x !== undefined).length === 1, {
    error: "expected exactly one of host_path, nfs or pvc",
  });

export const FarmSchema = z.strictObject({
  user: z
    .strictObject({
      uid: z.int().min(0),
      gid: z.int().min(0),
      fs_group: z.int().min(0).optional().describe("Group owning the pod's volumes (default: gid)."),
      home: absolutePath.default("/tmp").describe("HOME of the farm user inside the container."),
    })
    .optional()
    .describe("Who farm pods run as (default: the submitting user); --user overrides."),
  volumes: z
    .array(FarmVolumeSchema)
    .default([])
    .describe("How the cluster reaches shared paths; a run mount with the same target uses it instead of hostPath."),
  image_pull_secrets: z.array(k8sName).default([]).describe("Secrets with the registry's credentials."),
});

export const DevSchema = z.strictObject({
  paths: z
    .array(z.string().min(1))
    .default([])
    .describe(
      "Developers' package repositories `tantalus run WORKFLOW --dev` searches first, relative to the file that sets them; default Rez's local packages path, ~/packages.",
    ),
  retention: z
    .string()
    .regex(/^\d+[smhd]?$/, { error: "expected a number with an optional unit s, m, h or d (e.g. 7d)" })
    .default("7d")
    .describe("How long `tantalus gc` keeps images built for a developer (tags WORKFLOW:dev-<user>-<hash>)."),
});

const filterRules = z.union([z.string(), z.array(z.string())]);

/**
 * Rez's PackageFilter in its POD form: a package is hidden when an exclusion
 * matches and no inclusion does. Each rule (Rez's Rule.parse_rule: glob(),
 * regex(), range(), before(), after(), or bare) is checked when the file is
 * read, so an error names its line.
 */
export const PackageFilterSchema = z
  .strictObject({ excludes: filterRules.optional(), includes: filterRules.optional() })
  .superRefine((filter, ctx) => {
    for (const key of ["excludes", "includes"] as const) {
      const v = filter[key];
      if (v === undefined) continue;
      (typeof v === "string" ? [v] : v).forEach((rule, i) => {
        try {
          parseFilterRule(rule);
        } catch (err) {
          ctx.addIssue({
            code: "custom",
            path: typeof v === "string" ? [key] : [key, i],
            message: (err as { detail?: string }).detail ?? (err as Error).message,
          });
        }
      });
    }
  });

/** Rez's package orderer in its POD form, checked with the orderer's own parser. */
const OrdererSchema = z.record(z.string(), z.unknown()).check((ctx) => {
  try {
    ordererFromPod(ctx.value);
  } catch (err) {
    ctx.issues.push({
      code: "custom",
      input: ctx.value,
      message: ((err as { detail?: string }).detail ?? (err as Error).message).replace(/^orderer: /, ""),
    });
  }
});

/** Rez's platform_map: for "arch" and "os", Python regular expression -> replacement, first match wins. */
const PlatformMapSchema = z.record(z.string(), z.record(z.string(), z.string()));

/** A Rez system value (platform, arch, os): a version string, as it goes into `~os==VALUE`. */
const systemValue = z
  .string()
  .regex(/^[A-Za-z0-9_]+([.-][A-Za-z0-9_]+)*$/, { error: "expected a Rez version string such as Rocky-9.3" });

export const TargetSchema = z.strictObject({
  platform: systemValue.describe("Rez's system.platform of the target: linux, osx, windows."),
  arch: systemValue.describe("Rez's system.arch of the target, e.g. x86_64 or aarch64."),
  os: systemValue.describe("Rez's system.os of the target, e.g. Rocky-9.3."),
});

/** Which evaluator loads package.py files: the built-in one, or CPython for what it refuses. */
/** The evaluators of package.py (`python:`, TANTALUS_PYTHON). */
export const PYTHON_EVALUATORS = ["builtin", "cpython"] as const;
const evaluatorName = z.enum(PYTHON_EVALUATORS, { error: "expected builtin or cpython" });

export const PythonSchema = z.union(
  [
    evaluatorName,
    z.strictObject({
      evaluator: evaluatorName,
      interpreter: z
        .string()
        .regex(/^(\/[^\0]*|[A-Za-z0-9._+-]+)$/, {
          error: "expected a command on PATH (python3.11) or an absolute path (/usr/bin/python3)",
        })
        .optional()
        .describe("The CPython to run (default python3 on PATH)."),
    }),
  ],
  {
    error: (issue) => {
      const expected = "expected builtin, cpython, or {evaluator: cpython, interpreter: /usr/bin/python3}";
      if (typeof issue.input !== "string") return expected;
      const near = closestName(issue.input, PYTHON_EVALUATORS);
      return `${expected}, not '${issue.input}'${near ? ` (did you mean ${near}?)` : ""}`;
    },
  },
);

export const TantalusConfigSchema = z.strictObject({
  packages_path: z
    .array(z.string().min(1))
    .optional()
    .describe("Rez repositories, relative to the file that sets them; TANTALUS_PACKAGES_PATH and --paths override."),
  implicit_packages: z
    .array(requirement)
    .optional()
    .describe("Weak requests added to every request; absent means Rez's default (~platform, ~arch, ~os of the host)."),
  local_packages_path: z
    .string()
    .min(1)
    .optional()
    .describe("Rez's local_packages_path: the repository `resolve --no-local` leaves out of packages_path."),
  package_filter: z
    .array(PackageFilterSchema)
    .optional()
    .describe(
      "Rez's package_filter: filters of excludes/includes rules (glob(), regex(), range(), before(), after()) that hide packages from every resolve.",
    ),
  package_orderers: z
    .array(OrdererSchema)
    .optional()
    .describe(
      "Rez's package_orderers: version preference per family (sorted, version_split, soft_timestamp, per_family, no_order).",
    ),
  variant_select_mode: z
    .enum(["version_priority", "intersection_priority"])
    .optional()
    .describe("Rez's variant_select_mode: which variant of a package a resolve prefers (default version_priority)."),
  error_on_missing_variant_requires: z
    .boolean()
    .optional()
    .describe(
      "Rez's error_on_missing_variant_requires: a variant requiring a family no repository has fails the resolve (default true) or is skipped (false).",
    ),
  use_variant_shortlinks: z
    .boolean()
    .optional()
    .describe("Rez's use_variant_shortlinks: hashed variants are rooted at their _v/ shortlink (default true)."),
  platform_map: PlatformMapSchema.optional().describe(
    "Rez's platform_map: {arch: {REGEX: REPLACEMENT}, os: {...}} applied to the host's values (the default implicit packages).",
  ),
  target: TargetSchema.optional().describe(
    "The platform packages are resolved for, when it is not this host (an image's): package.py's platform.system(), platform.machine(), sys.platform and rez's system answer for it, and the default implicit packages are its ~platform, ~arch, ~os.",
  ),
  python: PythonSchema.default("builtin").describe(
    "Which Python evaluates package.py: builtin (the default: Tantalus's own evaluator, which refuses what is outside its subset) or cpython (a file it refuses, such as one using subprocess, open() or a site module, is loaded by the host's CPython through a Rez-compatible shim, and its commands() run there); {evaluator: cpython, interpreter: /usr/bin/python3} names the interpreter.",
  ),
  base: z
    .strictObject({
      image: z
        .string()
        .regex(BASE_IMAGE, {
          error:
            "expected demo, an image reference, or docker://, containers-storage:, oci:, oci-archive:, docker-archive:, rootfs: followed by a name or path",
        })
        .check((ctx) => {
          // One complaint per value: the pattern's, when it fails.
          if (!BASE_IMAGE.test(ctx.value)) return;
          try {
            parseBaseReference(ctx.value);
          } catch (err) {
            ctx.issues.push({
              code: "custom",
              input: ctx.value,
              message: (err as Error).message.replace(/^base image "[^"]*": /, ""),
            });
          }
        })
        .describe(
          "Image every workflow image is layered on: demo, a registry reference (or docker://REF), containers-storage:NAME (podman's store, via skopeo), oci:DIR[:REF], oci-archive:FILE[:REF], docker-archive:FILE[:NAME:TAG], rootfs:FILE or rootfs:DIR; paths relative to the file.",
        ),
    })
    .prefault({ image: "demo" }),
  store: z
    .string()
    .min(1)
    .optional()
    .describe(
      "Image and blob store, relative to the file that sets it (a site file's store serves every project without its own); TANTALUS_STORE and --store override; default $XDG_CACHE_HOME/tantalus/store or ~/.cache/tantalus/store.",
    ),
  registry: z
    .string()
    .min(1)
    .nullable()
    .default(null)
    .describe('Default push target, e.g. "registry.studio.internal/tantalus".'),
  image: ImageSchema.prefault({}),
  layers: LayersSchema.prefault({}),
  audit: AuditSchema.prefault({}),
  packages: z
    .record(z.string().regex(PACKAGE_NAME, { error: "expected a Rez package name" }), PackageOverrideSchema)
    .default({}),
  run: RunSchema.prefault({}),
  farm: FarmSchema.prefault({}).describe("Kubernetes farm jobs (tantalus farm manifest)."),
  dev: DevSchema.prefault({}),
  workflows: z
    .record(
      z.string().regex(WORKFLOW_NAME, { error: "expected a workflow name (letters, digits, _, . and -)" }),
      WorkflowSchema,
    )
    .default({}),
});

/** tantalus.yaml after validation, with every default filled in (keys as in the file). */
export type TantalusConfig = z.output<typeof TantalusConfigSchema>;
/** What a user may write. */
export type TantalusConfigInput = z.input<typeof TantalusConfigSchema>;
export type WorkflowConfig = z.output<typeof WorkflowSchema>;
export type MountConfig = z.output<typeof MountSchema>;
export type PackageOverride = z.output<typeof PackageOverrideSchema>;
export type RunConfig = z.output<typeof RunSchema>;
export type LayersConfig = z.output<typeof LayersSchema>;
export type FarmConfig = z.output<typeof FarmSchema>;

/** JSON Schema (draft 2020-12) of what a user may write, for editors and CI validation. */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(TantalusConfigSchema, { io: "input", unrepresentable: "any" }) as Record<
    string,
    unknown
  >;
  return {
    $schema: schema.$schema,
    title: "tantalus.yaml",
    description: "Configuration of Tantalus: Rez workflows built into OCI images and run in containers.",
    ...Object.fromEntries(Object.entries(schema).filter(([k]) => k !== "$schema")),
  };
}
