/**
 * Interpreting a Tantalus context (the lock): the interpretation inputs Rez
 * takes from a ResolvedContext, taken from the lock, so that rebuilding from
 * the same lock writes the same script.
 */
import type { ResolvedContext } from "../context/context.js";
import { contextSystem, systemFromImplicits, variantsOfContext } from "../context/context.js";
import type { PackageSource } from "../rez/repository/index.js";
import type { SystemInfo } from "../rez/system.js";
import { Requirement } from "../rez/version/index.js";
import { interpretContext, type InterpretOptions, type RexResult } from "./interpret.js";

export type ContextInterpretOptions = Omit<
  InterpretOptions,
  | "request"
  | "implicitPackages"
  | "ephemerals"
  | "packagePaths"
  | "timestamp"
  | "requestedTimestamp"
  | "building"
  | "system"
> & {
  /** The target system; default: read from the context's implicit packages, else the host's. */
  system?: SystemInfo;
};

/** The InterpretOptions a context implies (request, resolve facts, timestamps, system). */
export function optionsFromContext(ctx: ResolvedContext): Omit<InterpretOptions, "shell"> {
  return {
    request: ctx.request.map(normaliseRequest),
    implicitPackages: ctx.implicitPackages,
    ephemerals: ctx.ephemerals,
    packagePaths: ctx.packagePaths,
    // The context's creation time, not the time of writing: the script is a function of the lock.
    timestamp: Math.floor(Date.parse(ctx.created) / 1000) || 0,
    requestedTimestamp: ctx.timestamp ?? 0,
    building: ctx.building,
    system: contextSystem(ctx),
  };
}

export function interpretResolvedContext(
  ctx: ResolvedContext,
  source: PackageSource,
  opts: ContextInterpretOptions = {},
): RexResult {
  const variants = variantsOfContext(ctx, source);
  const base = optionsFromContext(ctx);
  return interpretContext(variants, { ...base, ...opts, system: opts.system ?? base.system });
}

/** Rez keeps the request parsed: REZ_USED_REQUEST shows each requirement as Rez prints it. */
function normaliseRequest(r: string): string {
  try {
    return Requirement.parse(r).toString();
  } catch {
    return r;
  }
}

/** The system implicit packages name (kept here for callers of the rex API). */
export { systemFromImplicits };
