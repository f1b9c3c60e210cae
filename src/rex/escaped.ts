/**
 * Rex's mixed literal/expandable strings (Rez's `EscapedString`). A value is a
 * list of parts; literal parts (from `literal()`) are never formatted, expanded
 * or interpreted by the shell, expandable parts (plain strings, `expandable()`)
 * are formatted with the rex namespace and left for the shell to expand.
 * Adjacent parts of the same kind are merged, as Rez does, because the shell
 * quoting of a value depends on where the part boundaries are.
 */
export type Part = readonly [literal: boolean, text: string];

export class EscapedString {
  private constructor(readonly parts: readonly Part[]) {}

  static literal(text: string): EscapedString {
    return new EscapedString([[true, text]]);
  }

  static expandable(text: string): EscapedString {
    return new EscapedString([[false, text]]);
  }

  static fromParts(parts: readonly Part[]): EscapedString {
    if (parts.length === 0) return EscapedString.expandable("");
    const out: Part[] = [];
    for (const p of parts) pushPart(out, p[0], p[1]);
    return new EscapedString(out);
  }

  /** A plain string is an expandable string. */
  static promote(v: string | EscapedString): EscapedString {
    return typeof v === "string" ? EscapedString.expandable(v) : v;
  }

  /** `a + b`, merging the parts at the seam. */
  concat(other: string | EscapedString): EscapedString {
    const out = [...this.parts];
    for (const [lit, text] of EscapedString.promote(other).parts) pushPart(out, lit, text);
    return new EscapedString(out);
  }

  /** Chaining: `literal("a").expandable("b")`, `.l()`, `.e()`. */
  withLiteral(text: string): EscapedString {
    const out = [...this.parts];
    pushPart(out, true, text);
    return new EscapedString(out);
  }

  withExpandable(text: string): EscapedString {
    const out = [...this.parts];
    pushPart(out, false, text);
    return new EscapedString(out);
  }

  /** Applies fn to the expandable parts only. */
  mapExpandable(fn: (text: string) => string): EscapedString {
    // Not merged again: Rez's formatted() keeps the part structure as it is.
    let out: Part[] | undefined;
    for (let i = 0; i < this.parts.length; i++) {
      const [lit, text] = this.parts[i]!;
      if (lit) continue;
      const mapped = fn(text);
      if (mapped === text) continue;
      out ??= [...this.parts];
      out[i] = [false, mapped];
    }
    return out ? new EscapedString(out) : this;
  }

  get isPlain(): boolean {
    return this.parts.every(([lit]) => !lit);
  }

  /** The text without any escaping. */
  toString(): string {
    let s = "";
    for (const p of this.parts) s += p[1];
    return s;
  }

  equals(other: EscapedString): boolean {
    return (
      this.parts.length === other.parts.length &&
      this.parts.every((p, i) => p[0] === other.parts[i]![0] && p[1] === other.parts[i]![1])
    );
  }

  /** `str.split(delimiter)` keeping the literal/expandable structure of each piece (Rez's EscapedString.split). */
  split(delimiter: string): EscapedString[] {
    const result: EscapedString[] = [];
    const pending = this.parts.map((p) => [p[0], p[1]] as [boolean, string]);
    let current: EscapedString | undefined;
    while (pending.length > 0) {
      const [lit, text] = pending[0]!;
      const at = text.indexOf(delimiter);
      let piece: EscapedString;
      let push: boolean;
      if (at >= 0) {
        pending[0] = [lit, text.slice(at + delimiter.length)];
        piece = new EscapedString([[lit, text.slice(0, at)]]);
        push = true;
      } else {
        pending.shift();
        piece = new EscapedString([[lit, text]]);
        push = false;
      }
      current = current ? current.concat(piece) : piece;
      if (push) {
        result.push(current);
        current = undefined;
      }
    }
    if (current) result.push(current);
    return result;
  }

  /** Joins values with a separator (Rez's EscapedString.join); an empty list gives "". */
  static join(sep: string, values: readonly (string | EscapedString)[]): EscapedString {
    if (values.length === 0) return EscapedString.expandable("");
    let result = EscapedString.promote(values[0]!);
    for (const v of values.slice(1)) result = result.concat(sep).concat(v);
    return result;
  }
}

function pushPart(out: Part[], lit: boolean, text: string): void {
  const last = out[out.length - 1];
  if (last && last[0] === lit) out[out.length - 1] = [lit, last[1] + text];
  else out.push([lit, text]);
}
