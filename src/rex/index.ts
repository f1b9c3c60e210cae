/**
 * Rex: running packages' pre_commands/commands/post_commands as Rez does, and
 * writing the result as the shell code Rez would write (bash, sh, zsh, tcsh,
 * csh, pwsh), as Rez's environ (JSON), or as an env-file.
 *
 *   const result = interpretContext(variants, { ...options, shell: "bash" });
 *   const script = renderShell(result.actions, "bash", { home });
 *
 * For the environ Rez's `rez context --interpret -f json` prints, interpret
 * without `shell`.
 */
export { interpretContext, RexCommandError, REZ_COMPAT_VERSION, REZ_ENV_VAR_SEPARATORS } from "./interpret.js";
export type { InterpretOptions, RexResult, RexMessage } from "./interpret.js";
export {
  interpretResolvedContext,
  optionsFromContext,
  systemFromImplicits,
  type ContextInterpretOptions,
} from "./from-context.js";
export { renderShell, shlexQuote, isShellKind, SHELL_KINDS, type ShellKind, type RenderOptions } from "./shells.js";
export { renderDotenv } from "./dotenv.js";
export { lateOptionsOf, lateRequiresHook, type LateEvaluationOptions } from "./late.js";
export { renderEnvironJson } from "./json.js";
export { REZ_SYSTEM_PATHS, REZ_DEFAULT_SHELL } from "./system-paths.js";
export { hostHomeResolver, type HomeResolver } from "./expand.js";
export { EscapedString } from "./escaped.js";
export type { Action, ActionOrigin, RexPhase } from "./actions.js";
