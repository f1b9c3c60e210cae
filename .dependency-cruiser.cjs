/**
 * Imports run one way: the CLI calls the stages, the stages call the core,
 * nothing calls back up (docs/ARCHITECTURE.md, "The import rule"). `npm run
 * check:imports` holds src/ to it; .ci/run runs that before the tests.
 *
 * Every module under src/ is listed below with the modules it may import.
 * An import of any other src/ module is a violation, so a new module must be
 * added here with its place in the pipeline before it can be used. Type-only
 * imports count: a type names the module it comes from as much as a value does.
 * Tests (*.test.ts, testkit/) may import what they test and any fixture, so
 * only the cycle rule applies to them.
 */

/** The core: the Rez model and everything a stage is built from. Each lists what it may import (a DAG). */
const core = {
  errors: [],
  version: [],
  locations: [],
  util: ["errors"],
  rez: ["errors", "util", "locations", "version"],
  solver: ["rez", "errors", "util"],
  // a lock records the filter and orderers that decided it, checked as the solver reads them
  context: ["rez", "solver", "errors", "util", "version"],
  // the late-requires hook is typed by the solver it plugs into
  rex: ["rez", "solver", "context", "errors", "util", "version"],
  // ELF, ld.so.cache, ld.so.conf and the glibc search over an image file system: knows nothing of Rez or OCI
  linker: ["errors", "util"],
  // the demo base's content follows the host's ELF dependencies (src/image/demo-base.ts)
  image: ["linker", "errors", "util", "version"],
  // base.image is checked with the image's reference grammar; the store path comes from locations;
  // Rez's own settings (rezconfig.py, read with rez/python) become the solver's orderers and filters
  config: ["image", "rez", "solver", "errors", "util", "locations"],
};

/**
 * The stages. Each may import the whole core and the stages named here; every
 * stage-to-stage edge says why it exists.
 */
const stages = {
  // one workflow resolve (request, overrides, late requires, context) for every command: core only
  workflow: [],
  // the plan is made from the workflows' resolves
  plan: ["workflow"],
  // the audit checks a workflow's resolve in its planned image
  audit: ["workflow"],
  // the build resolves (workflow), plans (plan) and refuses what the library audit finds (audit gate)
  builder: ["workflow", "plan", "audit"],
  // run reaches the build only through the ImageBuilder seam the CLI hands it, never by import
  run: ["workflow"],
  // a farm job pins what the build pushed (builder: push, stored images) and starts it as run does (run: launch plan, prepareRun)
  farm: ["builder", "run"],
  // the embedded sample studio: generated packages and tantalus.yaml, core only
  studio: [],
  // the web report shows what the other stages compute, computed by them: the resolves (workflow), the
  // studio plan (plan), the library audit and its fix list (audit), the store's images and their diffs (builder's
  // inventory); nothing imports the report
  report: ["workflow", "plan", "audit", "builder"],
};

const coreNames = Object.keys(core);
const stageNames = Object.keys(stages);
const all = [...coreNames, ...stageNames, "cli", "index"];

/** src/NAME/… or src/NAME.ts */
const modulePath = (names) => `^src/(${names.join("|")})(/|\\.ts$)`;
const tests = ["\\.test\\.ts$", "/testkit/"];

function onlyImports(name, allowed, layer) {
  const forbidden = all.filter((n) => n !== name && !allowed.includes(n));
  return {
    name: `${layer}:${name}`,
    severity: "error",
    comment: `src/${name} may import only ${allowed.length ? allowed.map((n) => `src/${n}`).join(", ") : "node and npm modules"}${layer === "stage" ? " and the core" : ""} (see .dependency-cruiser.cjs)`,
    from: { path: modulePath([name]), pathNot: tests },
    to: { path: modulePath(forbidden) },
  };
}

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "a cycle has no bottom: one module of it cannot be read, tested or moved without the others",
      from: { path: "^src/" },
      to: { circular: true },
    },
    ...Object.entries(core).map(([name, allowed]) => onlyImports(name, allowed, "core")),
    ...Object.entries(stages).map(([name, allowed]) => onlyImports(name, [...coreNames, ...allowed], "stage")),
    {
      name: "cli-is-the-top",
      severity: "error",
      comment: "src/cli and the library entry (src/index.ts) call the stages; nothing below calls them",
      from: { path: "^src/", pathNot: [modulePath(["cli", "index"]), ...tests] },
      to: { path: modulePath(["cli", "index"]) },
    },
    {
      name: "known-modules",
      severity: "error",
      comment: "every module of src/ has a place in .dependency-cruiser.cjs",
      from: { path: "^src/" },
      to: { path: "^src/", pathNot: modulePath(all) },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.check.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      extensions: [".ts", ".js", ".json"],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
