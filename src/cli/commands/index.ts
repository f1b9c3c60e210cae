import type { Command } from "@commander-js/extra-typings";

type CommandModule = { register(program: Command): void };

/**
 * Every subcommand is one module under src/cli/commands/, a thin layer over the
 * library. Modules are imported on demand: `tantalus run` starts an artist's
 * application and must not pay for loading the solver, the image writer and the
 * schema library it does not use.
 */
const COMMANDS: Record<string, () => Promise<CommandModule>> = {
  info: () => import("./info.js"),
  search: () => import("./search.js"),
  repo: () => import("./repo.js"),
  resolve: () => import("./resolve.js"),
  context: () => import("./context.js"),
  env: () => import("./env.js"),
  shell: () => import("./shell.js"),
  plan: () => import("./plan.js"),
  audit: () => import("./audit.js"),
  build: () => import("./build.js"),
  images: () => import("./images.js"),
  diff: () => import("./diff.js"),
  gc: () => import("./gc.js"),
  pull: () => import("./pull.js"),
  push: () => import("./push.js"),
  export: () => import("./export.js"),
  tag: () => import("./tag.js"),
  inspect: () => import("./inspect.js"),
  farm: () => import("./farm.js"),
  run: () => import("./run.js"),
  doctor: () => import("./doctor.js"),
  studio: () => import("./studio.js"),
  config: () => import("./config.js"),
  report: () => import("./report.js"),
};

/**
 * Registers the subcommand named in `argv` only, or every subcommand when none is
 * named (top-level help, an unknown command), so help and suggestions stay complete.
 */
export async function registerCommands(program: Command, argv: string[]): Promise<void> {
  const name = argv.slice(2).find((a) => !a.startsWith("-"));
  const only = name !== undefined ? COMMANDS[name] : undefined;
  const loaders = only ? [only] : Object.values(COMMANDS);
  for (const mod of await Promise.all(loaders.map((load) => load()))) mod.register(program);
}
