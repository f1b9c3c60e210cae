/**
 * The `rez.*` modules package definitions import, with what they do in Rez
 * 3.4 (`src/rez/utils/lint_helper.py`, `package_py_utils.py`, `system.py`,
 * `exceptions.py`, `utils/sourcecode.py`, `utils/platform_.py`).
 */
import {
  EXCEPTION,
  HostObject,
  PyBuiltin,
  PyException,
  PyExceptionType,
  typeName,
  type PyValue,
} from "../python/index.js";
import {
  MODULE_FUNCTIONS,
  PyModule,
  moduleFunction,
  outsideSubset,
  type HostQuery,
  type Importer,
} from "../python/modules.js";
import type { SystemInfo } from "../system.js";

/** Rez's `system` singleton as package code sees it: the platform the package is loaded for. */
class RezSystem extends HostObject {
  readonly pyTypeName = "System";
  constructor(
    private readonly info: () => SystemInfo,
    private readonly report: (kind: HostQuery["kind"], query: string, answer: string) => void,
  ) {
    super();
  }

  override getAttr(name: string): PyValue {
    if (name === "platform" || name === "arch" || name === "os") {
      const v = this.info()[name];
      this.report("platform", `system.${name}`, v);
      return v;
    }
    // hostname, user, num_cpus, rez_version...: facts of the machine running Rez, not of the platform resolved for.
    throw outsideSubset(`'system.${name}' (from rez.system)`);
  }

  override str(): string {
    const i = this.info();
    return `${i.platform}-${i.arch}-${i.os}`;
  }

  override repr(): string {
    return "<rez.system.System object>";
  }
}

/**
 * `rez.utils.platform_.platform_`, the object Rez's `system` is built on:
 * package code reads `platform_.name` (the platform), `.arch` and `.os`.
 */
class RezPlatform extends HostObject {
  readonly pyTypeName = "Platform";
  constructor(
    private readonly info: () => SystemInfo,
    private readonly report: (kind: HostQuery["kind"], query: string, answer: string) => void,
  ) {
    super();
  }

  override getAttr(name: string): PyValue {
    const field = name === "name" ? "platform" : name === "arch" || name === "os" ? name : undefined;
    if (field === undefined) throw outsideSubset(`'platform_.${name}' (from rez.utils.platform_)`);
    const v = this.info()[field];
    this.report("platform", `platform_.${name}`, v);
    return v;
  }

  override repr(): string {
    // Rez's platform_ is an instance of the host platform's subclass.
    const cls =
      ({ linux: "LinuxPlatform", osx: "OSXPlatform", windows: "WindowsPlatform" } as Record<string, string>)[
        this.info().platform
      ] ?? "Platform";
    return `<rez.utils.platform_.${cls} object>`;
  }
}

function rezExceptions(invalidPackageError: PyExceptionType): PyModule {
  const rezError = new PyExceptionType("RezError", EXCEPTION);
  const members: Record<string, PyValue> = { RezError: rezError, InvalidPackageError: invalidPackageError };
  const resource = new PyExceptionType("ResourceError", rezError);
  members.ResourceError = resource;
  const content = new PyExceptionType("ResourceContentError", resource);
  members.ResourceContentError = content;
  members.PackageMetadataError = new PyExceptionType("PackageMetadataError", content);
  for (const n of [
    "PackageRequestError",
    "PackageNotFoundError",
    "PackageFamilyNotFoundError",
    "PackageCommandError",
    "ConfigurationError",
    "RexError",
  ]) {
    members[n] = new PyExceptionType(n, rezError);
  }
  return new PyModule("rez.exceptions", members);
}

export interface RezModuleOptions {
  /** The decorator factories package.py gets as globals (also importable from rez.utils.sourcecode). */
  early: PyValue;
  late: PyValue;
  include: PyValue;
  invalidPackageError: PyExceptionType;
  system: () => SystemInfo;
  report: (kind: HostQuery["kind"], query: string, answer: string) => void;
}

/** The rez.* modules, built when a package first imports one. */
export function rezImporter(o: RezModuleOptions): Importer {
  let modules: Map<string, PyModule> | undefined;
  const build = (): Map<string, PyModule> => {
    // lint_helper: "lets you import anything from it, and the result is a variable set to None".
    const lintHelper = new PyModule(
      "rez.utils.lint_helper",
      { used: moduleFunction("used", () => null) },
      (name) => (name.startsWith("__") && name !== "__all__" ? undefined : null),
      null,
    );
    // Imported under another name, a decorator is a function like any other: Rez drops it from the attributes.
    for (const d of [o.early, o.late, o.include]) if (d instanceof PyBuiltin) MODULE_FUNCTIONS.add(d);
    const sourcecode = new PyModule("rez.utils.sourcecode", { early: o.early, late: o.late, include: o.include });
    const platformModule = new PyModule("rez.utils.platform_", { platform_: new RezPlatform(o.system, o.report) });
    const utils = new PyModule("rez.utils", { lint_helper: lintHelper, sourcecode, platform_: platformModule });
    const refuseProcess = (fname: string) =>
      moduleFunction(fname, (args) => {
        const attr = typeof args[0] === "string" ? ` for '${args[0]}'` : "";
        throw outsideSubset(`${fname}()${attr} (it runs a process)`);
      });
    const expandRequirement = (r: PyValue): PyValue => {
      if (typeof r !== "string")
        throw new PyException("TypeError", `expected a requirement string, not ${typeName(r)}`);
      // Without wildcards Rez returns the request unchanged; with them it asks the repositories for the latest match.
      if (!r.includes("*")) return r;
      throw outsideSubset(
        `expand_requires('${r}') with a wildcard (it searches the package repositories while the file loads)`,
      );
    };
    const pyUtils = new PyModule("rez.package_py_utils", {
      expand_requirement: moduleFunction("expand_requirement", (args) => expandRequirement(args[0] ?? null)),
      expand_requires: moduleFunction("expand_requires", (args) => args.map(expandRequirement)),
      exec_command: refuseProcess("exec_command"),
      exec_python: refuseProcess("exec_python"),
      find_site_python: refuseProcess("find_site_python"),
    });
    const systemModule = new PyModule("rez.system", { system: new RezSystem(o.system, o.report) });
    const exceptions = rezExceptions(o.invalidPackageError);
    const rez = new PyModule("rez", { utils, package_py_utils: pyUtils, system: systemModule, exceptions });
    return new Map([
      ["rez", rez],
      ["rez.utils", utils],
      ["rez.utils.lint_helper", lintHelper],
      ["rez.utils.sourcecode", sourcecode],
      ["rez.utils.platform_", platformModule],
      ["rez.package_py_utils", pyUtils],
      ["rez.system", systemModule],
      ["rez.exceptions", exceptions],
    ]);
  };
  return (name) => {
    if (name !== "rez" && !name.startsWith("rez.")) return undefined;
    modules ??= build();
    return modules.get(name);
  };
}
