/**
 * package.yaml read as Rez reads it: PyYAML's FullLoader, i.e. YAML 1.1 scalars
 * (`yes`/`no`/`on`/`off` are booleans, `010` is octal 8, `1:30` is 90, `1e10`
 * without a dot is a string), the last of duplicate keys wins, and `<<` merges.
 * Dates and times stay strings (PyYAML would make datetime objects, which have
 * no equivalent here).
 */
import YAML, { LineCounter, type Scalar } from "yaml";
import { InputError } from "../../errors.js";
import { PyDict, PyFloat, normInt, type PyValue } from "../python/values.js";
import type { RawAttributes } from "./package-py.js";
import { documentToJs } from "../../util/yaml.js";

function yamlInt(text: string): number | bigint {
  let s = text.replace(/_/g, "");
  let sign = 1n;
  if (s[0] === "-" || s[0] === "+") {
    if (s[0] === "-") sign = -1n;
    s = s.slice(1);
  }
  if (s === "0") return 0;
  if (s.startsWith("0b")) return normInt(sign * BigInt(s));
  if (s.startsWith("0x")) return normInt(sign * BigInt(s));
  if (s.includes(":")) return normInt(sign * sexagesimal(s, (p) => BigInt(p)));
  if (s.startsWith("0")) return normInt(sign * BigInt("0o" + s.slice(1)));
  return normInt(sign * BigInt(s));
}

function sexagesimal<T extends bigint | number>(s: string, conv: (part: string) => T): T {
  let value = conv("0");
  let base = conv("1");
  const parts = s.split(":").reverse();
  for (const p of parts) {
    value = ((value as bigint) + (conv(p) as bigint) * (base as bigint)) as T;
    base = ((base as bigint) * (conv("60") as bigint)) as T;
  }
  return value;
}

function yamlFloat(text: string): PyFloat {
  let s = text.replace(/_/g, "").toLowerCase();
  let sign = 1;
  if (s[0] === "-" || s[0] === "+") {
    if (s[0] === "-") sign = -1;
    s = s.slice(1);
  }
  if (s === ".inf") return new PyFloat(sign * Infinity);
  if (s === ".nan") return new PyFloat(NaN);
  if (s.includes(":")) {
    const parts = s.split(":").map(Number).reverse();
    let value = 0;
    let base = 1;
    for (const p of parts) {
      value += p * base;
      base *= 60;
    }
    return new PyFloat(sign * value);
  }
  return new PyFloat(sign * Number(s));
}

/** PyYAML's implicit resolvers (rez/vendor/yaml/resolver.py), in its order. */
const PYYAML_TAGS = [
  {
    tag: "tag:yaml.org,2002:null",
    default: true,
    test: /^(?:~|null|Null|NULL)?$/,
    resolve: () => null,
  },
  {
    tag: "tag:yaml.org,2002:bool",
    default: true,
    test: /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/,
    resolve: (s: string) => ["yes", "true", "on"].includes(s.toLowerCase()),
  },
  {
    tag: "tag:yaml.org,2002:int",
    default: true,
    test: /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/,
    resolve: (s: string) => yamlInt(s),
  },
  {
    tag: "tag:yaml.org,2002:float",
    default: true,
    test: /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/,
    resolve: (s: string) => yamlFloat(s),
  },
];

function toPy(v: unknown, file: string, path: string): PyValue {
  if (v === null || v === undefined) return null;
  if (typeof v === "string" || typeof v === "boolean" || typeof v === "number" || typeof v === "bigint") return v;
  if (v instanceof PyFloat) return v;
  if (Array.isArray(v)) return v.map((x, i) => toPy(x, file, `${path}[${i}]`));
  if (v instanceof Map) {
    const d = new PyDict();
    for (const [k, x] of v) d.set(toPy(k, file, path), toPy(x, file, `${path}.${String(k)}`));
    return d;
  }
  throw new InputError(`${path}: unsupported YAML value (${Object.prototype.toString.call(v)})`, { file });
}

/** Top-level keys of package.yaml with their values and lines. */
export function readPackageYaml(text: string, file: string): RawAttributes & { blockScalars: Set<string> } {
  const lineCounter = new LineCounter();
  const doc = YAML.parseDocument(text, {
    schema: "failsafe",
    customTags: (tags) => [...tags, ...PYYAML_TAGS],
    merge: true,
    uniqueKeys: false,
    lineCounter,
  });
  const err = doc.errors[0];
  if (err) {
    const line = err.linePos?.[0]?.line;
    const message = err.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
    throw new InputError(`invalid YAML: ${message}`, { file, line });
  }
  const values = new Map<string, PyValue>();
  const lines = new Map<string, number>();
  const blockScalars = new Set<string>();
  const contents = doc.contents;
  if (contents === null) return { values, lines, blockScalars };
  if (!YAML.isMap(contents)) {
    throw new InputError("package.yaml must be a mapping of attribute names to values", {
      file,
      line: lineCounter.linePos(contents.range?.[0] ?? 0).line,
    });
  }
  const js = documentToJs(doc, lineCounter, file, { mapAsMap: true }) as Map<unknown, unknown>;
  for (const [k, v] of js) {
    if (typeof k !== "string") throw new InputError(`attribute names must be strings, not ${String(k)}`, { file });
    values.set(k, toPy(v, file, k));
  }
  for (const pair of contents.items) {
    const key = pair.key as Scalar | null;
    if (!key || typeof key.value !== "string" || !key.range) continue;
    const value = pair.value as Scalar | null;
    // For `commands: |` the code starts on the line after the key.
    const block = !!value && (value.type === "BLOCK_LITERAL" || value.type === "BLOCK_FOLDED");
    if (block) blockScalars.add(key.value);
    lines.set(key.value, lineCounter.linePos(key.range[0]).line);
  }
  return { values, lines, blockScalars };
}
