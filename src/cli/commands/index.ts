import type { Command } from "@commander-js/extra-typings";
import { register as registerRepo } from "./repo.js";
import { register as registerInfo } from "./info.js";
import { register as registerSearch } from "./search.js";
import { register as registerResolve } from "./resolve.js";
import { register as registerContext } from "./context.js";
import { register as registerPlan } from "./plan.js";
import { register as registerStudio } from "./studio.js";
import { register as registerEnv } from "./env.js";
import { register as registerShell } from "./shell.js";
import { register as registerRun } from "./run.js";
import { register as registerDoctor } from "./doctor.js";
import { register as registerBuild } from "./build.js";
import { register as registerImages } from "./images.js";
import { register as registerGc } from "./gc.js";
import { register as registerDiff } from "./diff.js";
import { register as registerPull } from "./pull.js";
import { register as registerAudit } from "./audit.js";

/**
 * Every subcommand registers itself here; one module per command under
 * src/cli/commands/, each a thin layer over the library in src/.
 */
export function registerCommands(program: Command): void {
  registerInfo(program);
  registerSearch(program);
  registerRepo(program);
  registerResolve(program);
  registerContext(program);
  registerPlan(program);
  registerStudio(program);
  registerEnv(program);
  registerShell(program);
  registerRun(program);
  registerDoctor(program);
  registerBuild(program);
  registerImages(program);
  registerGc(program);
  registerDiff(program);
  registerPull(program);
  registerAudit(program);
}
