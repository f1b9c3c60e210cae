/**
 * The workflow image contract: what every image `tantalus build` writes
 * carries, and where, so that `tantalus run`, the farm's jobs, and a user
 * with only `docker inspect` or a shell in the container find it. The build
 * writes these paths and labels (src/builder), the runtimes start
 * ENTRYPOINT_PATH (src/run), Kubernetes jobs name it (src/farm). One module,
 * so that moving a file inside the image is one change that every reader
 * follows.
 *
 * Everything lives under /etc/tantalus, a directory no base image has: the
 * top layer adds it whole, and nothing of the base is shadowed.
 */

export const TANTALUS_DIR = "/etc/tantalus";
/** The image's entrypoint (POSIX sh): the workflow environment, then the command or an interactive shell. */
export const ENTRYPOINT_PATH = `${TANTALUS_DIR}/entrypoint.sh`;
/** The captured Rez environment, rendered for sh; the entrypoint and the rc files source it. */
export const ENVIRONMENT_PATH = `${TANTALUS_DIR}/environment.sh`;
/** The resolve as a Rez context (lock JSON, roots as the image sees them); its sha256 is the Context label. */
export const CONTEXT_PATH = `${TANTALUS_DIR}/context.json`;
/** The workflow's definition as tantalus.yaml has it. */
export const WORKFLOW_DEFINITION_PATH = `${TANTALUS_DIR}/workflow.yaml`;
/** The workflow's name, one line: the entrypoint reads it when TANTALUS_WORKFLOW is not set. */
export const WORKFLOW_NAME_PATH = `${TANTALUS_DIR}/workflow`;
/** rc files of the interactive shells the entrypoint starts (bash --rcfile, $ENV of sh, ZDOTDIR of zsh). */
export const BASHRC_PATH = `${TANTALUS_DIR}/bashrc`;
export const SHRC_PATH = `${TANTALUS_DIR}/shrc`;
export const ZDOTDIR_PATH = `${TANTALUS_DIR}/zsh`;

/**
 * What a workflow image says about itself, readable without Tantalus
 * (`skopeo inspect`, `docker inspect`): OCI labels in the config, the same
 * keys as manifest annotations, and per-layer annotations naming the Rez
 * variants each layer holds (src/builder/labels.ts writes them).
 */
export const Label = {
  Workflow: "io.tantalus.workflow",
  /** The request as written in the workflow (space-separated Rez requirements). */
  Request: "io.tantalus.request",
  ImplicitPackages: "io.tantalus.implicit-packages",
  /** The resolve: qualified variant names (name-version[index]), space-separated, in resolve order. */
  Resolve: "io.tantalus.resolve",
  /** sha256 of CONTEXT_PATH: equal for equal resolves of equal package definitions. */
  Context: "io.tantalus.context.digest",
  /** On the demo base ("demo"); inherited by images built on it. */
  Base: "io.tantalus.base",
  /** Layer annotations. */
  LayerKind: "io.tantalus.layer.kind",
  LayerTier: "io.tantalus.layer.tier",
  LayerVariants: "io.tantalus.layer.variants",
} as const;
