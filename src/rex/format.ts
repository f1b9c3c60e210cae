/**
 * Rez's NamespaceFormatter: the str.format that turns `"{root}/bin"` into a
 * path. It differs from Python's str.format in ways package authors rely on:
 *
 * - `$VAR` and `${VAR}` are protected first (and normalised to `${VAR}`), so
 *   they reach the shell instead of being read as fields;
 * - names are looked up in the rex namespace (`root`, `this`, `env`, ...), and
 *   a positional field (`{0}`, `{}`) looks into an empty argument tuple;
 * - a field whose value is a string is formatted again, recursively (so a
 *   `$VAR` in a package's description becomes `${VAR}` too);
 * - literal()/expandable() values are used as their plain text.
 *
 * Errors are Python's: the caller (ActionManager.format) falls back to the
 * unformatted string on KeyError and ValueError, and fails on anything else.
 */
import { PyException, type CallContext, type PyValue } from "../rez/python/values.js";
import { asciiRepr, formatFieldEnd, formatValue } from "../rez/python/format.js";
import { protectEnvRefs, type RefSyntax } from "./expand.js";
import { EscapedStringValue } from "./values.js";

/** Guards the recursive formatting of string fields (Python would end in RecursionError). */
const MAX_FIELD_DEPTH = 50;

export class NamespaceFormatter {
  constructor(
    /** The rex namespace; read at each format, so later bindings are seen. */
    private readonly namespace: () => ReadonlyMap<string, PyValue>,
    private readonly ctx: () => CallContext,
  ) {}

  /** Formats a template; `syntax` is the interpreter's variable syntax (pwsh also protects `$Env:X`). */
  format(template: string, syntax: RefSyntax = "generic", depth = 0): string {
    if (depth > MAX_FIELD_DEPTH)
      throw new PyException("RecursionError", "maximum recursion depth exceeded while calling a Python object");
    // Most values (versions, names, plain paths) have nothing to format.
    if (!/[{}$]/.test(template)) return template;
    const protectedTemplate = protectEnvRefs(template, syntax);
    return this.vformat(protectedTemplate, 2, { auto: 0, mode: "" }, depth);
  }

  private vformat(template: string, recursion: number, state: AutoNumbering, depth: number): string {
    if (recursion < 0) throw new PyException("ValueError", "Max string recursion exceeded");
    let out = "";
    for (const piece of parseTemplate(template)) {
      if (typeof piece === "string") {
        out += piece;
        continue;
      }
      let value = this.field(piece.name, state);
      value = this.convert(value, piece.conversion);
      const spec = piece.spec.includes("{") ? this.vformat(piece.spec, recursion - 1, state, depth) : piece.spec;
      out += this.formatField(value, spec, depth);
    }
    return out;
  }

  private formatField(value: PyValue, spec: string, depth: number): string {
    if (value instanceof EscapedStringValue) value = value.escaped.toString();
    if (typeof value === "string") value = this.format(value, "generic", depth + 1);
    return formatValue(value, spec, this.ctx());
  }

  private convert(value: PyValue, conversion: string | undefined): PyValue {
    switch (conversion) {
      case undefined:
        return value;
      case "s":
        return this.ctx().str(value);
      case "r":
        return this.ctx().repr(value);
      case "a":
        return asciiRepr(this.ctx().repr(value));
      default:
        throw new PyException("ValueError", `Unknown conversion specifier ${conversion}`);
    }
  }

  private field(name: string, state: AutoNumbering): PyValue {
    const { first, rest } = splitFieldName(name);
    let key: string | number = first;
    if (first === "") {
      if (state.mode === "manual")
        throw new PyException(
          "ValueError",
          "cannot switch from manual field specification to automatic field numbering",
        );
      state.mode = "auto";
      key = state.auto++;
    } else if (/^\d+$/.test(first)) {
      if (state.mode === "auto")
        throw new PyException(
          "ValueError",
          "cannot switch from automatic field numbering to manual field specification",
        );
      state.mode = "manual";
      key = Number(first);
    }
    // The formatter is called with no positional arguments.
    if (typeof key === "number") throw new PyException("IndexError", "tuple index out of range");
    let value = this.namespace().get(key);
    if (value === undefined) throw new PyException("KeyError", `'${key}'`);
    const ctx = this.ctx();
    for (const step of rest) value = step.attr ? ctx.getAttr(value, step.key as string) : ctx.getItem(value, step.key);
    return value;
  }
}

interface AutoNumbering {
  auto: number;
  mode: "" | "auto" | "manual";
}

interface Field {
  name: string;
  conversion?: string;
  spec: string;
}

/** CPython's MarkupIterator: literal text and replacement fields. */
function parseTemplate(template: string): (string | Field)[] {
  const out: (string | Field)[] = [];
  let literal = "";
  let i = 0;
  const n = template.length;
  while (i < n) {
    const c = template[i]!;
    if (c !== "{" && c !== "}") {
      literal += c;
      i++;
      continue;
    }
    if (template[i + 1] === c) {
      literal += c;
      i += 2;
      continue;
    }
    if (c === "}") throw new PyException("ValueError", "Single '}' encountered in format string");
    if (i + 1 >= n) throw new PyException("ValueError", "Single '{' encountered in format string");
    const j = formatFieldEnd(template, i);
    if (literal) out.push(literal);
    literal = "";
    out.push(parseField(template.slice(i + 1, j)));
    i = j + 1;
  }
  if (literal) out.push(literal);
  return out;
}

function parseField(field: string): Field {
  let k = 0;
  while (k < field.length) {
    const c = field[k]!;
    if (c === "{") throw new PyException("ValueError", "unexpected '{' in field name");
    if (c === "[") {
      const close = field.indexOf("]", k);
      k = close < 0 ? field.length : close + 1;
      continue;
    }
    if (c === "!" || c === ":") break;
    k++;
  }
  const name = field.slice(0, k);
  if (field[k] === "!") {
    if (k + 1 >= field.length)
      throw new PyException("ValueError", "end of string while looking for conversion specifier");
    const conversion = field[k + 1]!;
    if (k + 2 < field.length && field[k + 2] !== ":")
      throw new PyException("ValueError", "expected ':' after conversion specifier");
    return { name, conversion, spec: field.slice(k + 3) };
  }
  if (field[k] === ":") return { name, spec: field.slice(k + 1) };
  return { name, spec: "" };
}

interface FieldStep {
  attr: boolean;
  key: string | number;
}

/** _string.formatter_field_name_split. */
function splitFieldName(name: string): { first: string; rest: FieldStep[] } {
  const m = /^[^.[]*/.exec(name)!;
  const first = m[0];
  const rest: FieldStep[] = [];
  let i = first.length;
  while (i < name.length) {
    const c = name[i]!;
    if (c === ".") {
      const mm = /^[^.[]*/.exec(name.slice(i + 1))!;
      if (mm[0] === "") throw new PyException("ValueError", "Empty attribute in format string");
      rest.push({ attr: true, key: mm[0] });
      i += 1 + mm[0].length;
    } else if (c === "[") {
      const close = name.indexOf("]", i);
      if (close < 0) throw new PyException("ValueError", "Missing ']' in format string");
      const key = name.slice(i + 1, close);
      if (key === "") throw new PyException("ValueError", "Empty attribute in format string");
      rest.push({ attr: false, key: /^\d+$/.test(key) ? Number(key) : key });
      i = close + 1;
      if (i < name.length && name[i] !== "." && name[i] !== "[") {
        throw new PyException("ValueError", "Only '.' or '[' may follow ']' in format field specifier");
      }
    } else {
      throw new PyException("ValueError", "Only '.' or '[' may follow ']' in format field specifier");
    }
  }
  return { first, rest };
}
