/**
 * Python literal text for the values a package.py holds, matching CPython's
 * repr() for str, int, bool, None, list and dict (single quotes unless the
 * string contains one), so that hashed variant directories come out as Rez
 * computes them from str(list).
 */
export function pyRepr(value: unknown): string {
  if (value === null || value === undefined) return "None";
  if (typeof value === "boolean") return value ? "True" : "False";
  if (typeof value === "number") {
    if (!Number.isInteger(value)) throw new Error(`pyRepr: only integers are supported, got ${value}`);
    return String(value);
  }
  if (typeof value === "string") return pyStr(value);
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(", ")}]`;
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>);
    return `{${entries.map(([k, v]) => `${pyStr(k)}: ${pyRepr(v)}`).join(", ")}}`;
  }
  throw new Error(`pyRepr: unsupported value of type ${typeof value}`);
}

export function pyStr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (ch === "\\") out += "\\\\";
    else if (ch === quote) out += "\\" + quote;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (code < 0x20 || code === 0x7f) out += "\\x" + code.toString(16).padStart(2, "0");
    else out += ch;
  }
  return out + quote;
}

/** A list written one item per line, the way rez-build writes installed package.py files. */
export function pyListBlock(items: unknown[], indent = "    "): string {
  if (items.length === 0) return "[]";
  return `[\n${items.map((i) => indent + pyRepr(i)).join(",\n")}\n]`;
}
