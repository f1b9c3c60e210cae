/**
 * Checks attributes against Rez's package schema (`package_pod_schema` in
 * `src/rez/package_resources.py`) and builds the PackageDefinition. A wrong
 * type is an InputError naming the file, the line of the attribute and what
 * Rez expects, instead of Rez's opaque schema dump.
 */
import { InputError } from "../../errors.js";
import {
  PyDict,
  PyFunction,
  parseModule,
  pyRepr,
  toJS,
  typeName,
  type JSValue,
  type PyValue,
} from "../python/index.js";
import { REX_KEYS, type RawAttributes } from "./package-py.js";
import type { LateBound, PackageDefinition, RexCode } from "./types.js";

/** Python's str.strip() whitespace. */
const PY_WS = "\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const STRIP = new RegExp(`^[${PY_WS}]+|[${PY_WS}]+$`, "gu");

/** textwrap.dedent: removes the common leading whitespace; whitespace-only lines become empty. */
export function dedent(text: string): string {
  const lines = text.split("\n").map((l) => (/^[ \t]*$/.test(l) ? "" : l));
  let margin: string | undefined;
  for (const l of lines) {
    if (l === "") continue;
    const indent = /^[ \t]*/.exec(l)![0];
    if (margin === undefined) margin = indent;
    else {
      let i = 0;
      while (i < margin.length && i < indent.length && margin[i] === indent[i]) i++;
      margin = margin.slice(0, i);
    }
  }
  if (!margin) return lines.join("\n");
  return lines.map((l) => (l.startsWith(margin) ? l.slice(margin.length) : l)).join("\n");
}

/** Rez's `large_string_dict`: dedent, then strip. */
function largeString(text: string): string {
  return dedent(text).replace(STRIP, "");
}

function describe(v: PyValue): string {
  if (v instanceof PyFunction) return "a function";
  const t = typeName(v);
  return `${/^[aeiou]/.test(t) ? "an" : "a"} ${t} (${abbreviate(pyRepr(v))})`;
}

function abbreviate(s: string): string {
  return s.length > 60 ? s.slice(0, 57) + "..." : s;
}

class Checker {
  constructor(
    private readonly file: string,
    private readonly lines: Map<string, number>,
  ) {}

  fail(attr: string, message: string): never {
    throw new InputError(message, { file: this.file, line: this.lines.get(attr) });
  }

  str(attr: string, v: PyValue, hint = ""): string {
    if (typeof v !== "string") this.fail(attr, `'${attr}' must be a string, not ${describe(v)}${hint}`);
    return v;
  }

  strList(attr: string, v: PyValue, what = "string"): string[] {
    if (!Array.isArray(v)) this.fail(attr, `'${attr}' must be a list of ${what}s, not ${describe(v)}`);
    v.forEach((x, i) => {
      if (typeof x !== "string")
        this.fail(attr, `'${attr}' must be a list of ${what}s, but item ${i} is ${describe(x)}`);
    });
    return v as string[];
  }

  late<T>(attr: string, v: PyValue, check: (v: PyValue) => T): LateBound<T> {
    if (v instanceof PyFunction && v.hasMark("late")) return v;
    return check(v);
  }

  bool(attr: string, v: PyValue): boolean {
    if (typeof v !== "boolean") this.fail(attr, `'${attr}' must be True or False, not ${describe(v)}`);
    return v;
  }

  optionalBool(attr: string, v: PyValue): boolean | null {
    if (v !== null && typeof v !== "boolean")
      this.fail(attr, `'${attr}' must be True, False or None, not ${describe(v)}`);
    return v;
  }

  int(attr: string, v: PyValue): number {
    if (typeof v === "number") return v;
    if (typeof v === "bigint") return Number(v);
    return this.fail(attr, `'${attr}' must be an int, not ${describe(v)}`);
  }

  variants(v: PyValue): string[][] {
    if (v instanceof PyFunction && v.hasMark("late"))
      this.fail("variants", "'variants' cannot be a @late() function (Rez does not allow late-bound variants)");
    if (!Array.isArray(v))
      this.fail("variants", `'variants' must be a list of lists of requirement strings, not ${describe(v)}`);
    return v.map((variant, i) => {
      if (!Array.isArray(variant)) {
        this.fail(
          "variants",
          `'variants' must be a list of lists of requirement strings, but variant ${i} is ${describe(variant)}`,
        );
      }
      return variant.map((x, j) => {
        if (typeof x !== "string")
          this.fail(
            "variants",
            `'variants' item ${i} must be a list of requirement strings, but its item ${j} is ${describe(x)}`,
          );
        return x;
      });
    });
  }

  help(v: PyValue): string | string[][] {
    if (typeof v === "string") return v;
    if (Array.isArray(v) && v.every((e) => Array.isArray(e) && e.every((x) => typeof x === "string"))) return v;
    return this.fail("help", `'help' must be a string or a list of [label, url] string lists, not ${describe(v)}`);
  }

  rex(attr: string, v: PyValue, blockScalar: boolean): RexCode {
    if (v instanceof PyFunction) {
      if (v.hasMark("late")) this.fail(attr, `Cannot use @late decorator on function '${attr}'`);
      return v;
    }
    if (typeof v === "string") return this.codeFromString(attr, v, blockScalar);
    if (Array.isArray(v) && v.every((x) => typeof x === "string")) {
      this.fail(
        attr,
        `'${attr}' is a list of strings: old-style (rez-1) commands are not supported; write Python rex code`,
      );
    }
    return this.fail(attr, `'${attr}' must be a function or a string of rex code, not ${describe(v)}`);
  }

  /** Rex code given as a string: parsed now, so syntax errors point at the file and line. */
  private codeFromString(attr: string, source: string, blockScalar: boolean): RexCode {
    const line = this.lines.get(attr) ?? 1;
    const code = dedent(source);
    const mod = parseModule(code, this.file, { lineOffset: line - 1 + (blockScalar ? 1 : 0) });
    return new PyFunction({
      name: attr,
      kind: "code",
      body: mod.node.body,
      globals: new Map(),
      module: mod,
      line: line + (blockScalar ? 1 : 0),
      source: code,
    });
  }

  dict(attr: string, v: PyValue): PyDict {
    if (!(v instanceof PyDict)) this.fail(attr, `'${attr}' must be a dict, not ${describe(v)}`);
    return v;
  }

  plainDict(attr: string, v: PyValue): { [key: string]: JSValue } {
    const d = this.dict(attr, v);
    try {
      return toJS(d, attr) as { [key: string]: JSValue };
    } catch (err) {
      return this.fail(
        attr,
        `'${attr}' must hold plain data (strings, numbers, booleans, lists, dicts with string keys): ${(err as Error).message}`,
      );
    }
  }
}

/** Validates attributes and builds the definition. `blockScalars`: YAML keys whose value is a `|`/`>` block. */
export function buildDefinition(
  file: string,
  format: "py" | "yaml",
  raw: RawAttributes,
  blockScalars: ReadonlySet<string> = new Set(),
): PackageDefinition {
  const c = new Checker(file, raw.lines);
  const values = raw.values;
  const name = values.get("name");
  if (name === undefined) throw new InputError("missing the required attribute 'name'", { file });
  const def: PackageDefinition = {
    file,
    format,
    name: c.str("name", name),
    attributes: {},
    lines: {},
  };
  for (const [attr, original] of values) {
    let v = original;
    switch (attr) {
      case "name":
        break;
      case "version":
        def.version = c.str(
          "version",
          v,
          typeof v !== "string" && format === "yaml" ? " (quote it in YAML: version: '1.0')" : "",
        );
        break;
      case "description":
        v = def.description = largeString(c.str(attr, v));
        break;
      case "changelog":
        v = largeString(c.str(attr, v));
        break;
      case "authors":
        def.authors = c.strList(attr, v);
        break;
      case "requires":
      case "build_requires":
      case "private_build_requires":
        def[attr] = c.late(attr, v, (x) => c.strList(attr, x, "requirement string"));
        break;
      case "variants":
        def.variants = c.variants(v);
        break;
      case "hashed_variants":
        def.hashed_variants = c.bool(attr, v);
        break;
      case "tools":
        def.tools = c.late(attr, v, (x) => c.strList(attr, x));
        break;
      case "plugin_for":
        c.late(attr, v, (x) => c.strList(attr, x));
        break;
      case "has_plugins":
        c.late(attr, v, (x) => c.bool(attr, x));
        break;
      case "help":
        def.help = c.late(attr, v, (x) => c.help(x));
        break;
      case "relocatable":
      case "cachable":
        def[attr] = c.late(attr, v, (x) => c.optionalBool(attr, x));
        break;
      case "uuid":
        def.uuid = c.str(attr, v);
        break;
      case "vcs":
      case "previous_version":
        c.str(attr, v);
        break;
      case "release_message":
        if (v !== null) c.str(attr, v);
        break;
      case "timestamp":
        def.timestamp = c.int(attr, v);
        break;
      case "format_version":
        if (typeof v === "number") def.format_version = v;
        break;
      case "config":
        c.dict(attr, v);
        break;
      case "tests":
        c.late(attr, v, (x) => c.dict(attr, x));
        break;
      case "tantalus":
        def.tantalus = c.plainDict(attr, v);
        break;
      default:
        // A string of code stays a string in `attributes` (as in Rez); the typed field holds it parsed.
        if (REX_KEYS.has(attr)) def[attr as "commands"] = c.rex(attr, v, blockScalars.has(attr));
        break;
    }
    def.attributes[attr] = v;
    // Only attributes get a line: names bound inside `with scope(...)` blocks were recorded, then removed.
    const line = raw.lines.get(attr);
    if (line !== undefined) def.lines[attr] = line;
  }
  return def;
}

/**
 * Checks the value a `@late()` function returned against Rez's schema for that
 * attribute (e.g. `requires` must give a list of requirement strings); the
 * error names the package file and the line of the function.
 */
export function checkLateValue(def: PackageDefinition, attr: string, value: PyValue): PyValue {
  const c = new Checker(def.file, new Map(Object.entries(def.lines)));
  const late = (x: PyValue): boolean => x instanceof PyFunction;
  if (late(value)) c.fail(attr, `@late() function '${attr}' returned a function, not a value`);
  switch (attr) {
    case "requires":
    case "build_requires":
    case "private_build_requires":
      return c.strList(attr, value, "requirement string");
    case "tools":
    case "plugin_for":
      return c.strList(attr, value);
    case "has_plugins":
      return c.bool(attr, value);
    case "help":
      return c.help(value);
    case "relocatable":
    case "cachable":
      return c.optionalBool(attr, value);
    case "tests":
      return c.dict(attr, value);
    default:
      return value;
  }
}
