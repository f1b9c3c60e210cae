/**
 * An environ printed byte for byte as `rez context --interpret -f json` prints
 * it: Python's json.dumps(env, sort_keys=True, indent=4), which escapes every
 * non-ASCII character.
 */
export function renderEnvironJson(environ: Readonly<Record<string, string>>): string {
  const sorted: Record<string, string> = {};
  // Python sorts str keys by code point; JS's default sort compares UTF-16 units, which differs above U+FFFF.
  for (const k of Object.keys(environ).sort(compareCodePoints)) sorted[k] = environ[k]!;
  const text = JSON.stringify(sorted, null, 4).replace(
    /[\u0080-\uffff]/g,
    (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"),
  );
  return text + "\n";
}

function compareCodePoints(a: string, b: string): number {
  const ai = a[Symbol.iterator]();
  const bi = b[Symbol.iterator]();
  for (;;) {
    const x = ai.next();
    const y = bi.next();
    if (x.done || y.done) return x.done ? (y.done ? 0 : -1) : 1;
    const d = x.value.codePointAt(0)! - y.value.codePointAt(0)!;
    if (d !== 0) return d;
  }
}
