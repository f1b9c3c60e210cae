/**
 * The errors CPython's tokenizer finds, found the way it finds them. py-ast
 * accepts a file that mixes tabs and spaces inconsistently (CPython raises
 * TabError) and reports an unclosed bracket where the parser gave up (CPython
 * reports the line of the bracket). CPython tokenizes the whole file after a
 * parser error and lets a tokenizer error win, so this check runs first and its
 * error, when there is one, is the one Python reports.
 */

export interface TokenizerError {
  pyType: "TabError" | "IndentationError" | "SyntaxError";
  message: string;
  line: number;
  /**
   * An unclosed bracket at the end of the file. CPython reports it only when the
   * parser failed on a later line than the bracket's (or at the end of the
   * file); otherwise the parser's own error stands.
   */
  unclosed?: boolean;
}

const CLOSERS: Record<string, string> = { ")": "(", "]": "[", "}": "{" };

/** The first tokenizer error of the source (newlines already normalised to \n), or undefined. */
export function tokenizerError(text: string): TokenizerError | undefined {
  const n = text.length;
  let line = 1;
  let i = 0;
  const brackets: { ch: string; line: number }[] = [];
  // CPython's two indentation stacks: tabs to the next multiple of 8, and tabs as one column.
  const indents = [0];
  const altIndents = [0];
  let atLineStart = true;
  let continuation = false;
  const lastLine = text.endsWith("\n") ? line + countNewlines(text) - 1 : line + countNewlines(text);
  while (i < n) {
    if (atLineStart) {
      atLineStart = false;
      if (brackets.length === 0 && !continuation) {
        let col = 0;
        let alt = 0;
        let j = i;
        for (; j < n; j++) {
          const c = text[j];
          if (c === " ") {
            col++;
            alt++;
          } else if (c === "\t") {
            col = (Math.floor(col / 8) + 1) * 8;
            alt++;
          } else if (c === "\f") {
            col = 0;
            alt = 0;
          } else break;
        }
        const next = text[j];
        const blank = j >= n || next === "\n" || next === "#" || (next === "\\" && text[j + 1] === "\n");
        if (!blank) {
          const top = indents.length - 1;
          if (col === indents[top]) {
            if (alt !== altIndents[top]) return tabError(line);
          } else if (col > indents[top]!) {
            if (alt <= altIndents[top]!) return tabError(line);
            indents.push(col);
            altIndents.push(alt);
          } else {
            while (indents.length > 1 && col < indents[indents.length - 1]!) {
              indents.pop();
              altIndents.pop();
            }
            if (col !== indents[indents.length - 1]) {
              return {
                pyType: "IndentationError",
                message: "unindent does not match any outer indentation level",
                line,
              };
            }
            if (alt !== altIndents[altIndents.length - 1]) return tabError(line);
          }
        }
        i = j;
        continue;
      }
      continuation = false;
    }
    const c = text[i]!;
    if (c === "\n") {
      line++;
      i++;
      atLineStart = true;
      continue;
    }
    if (c === "#") {
      while (i < n && text[i] !== "\n") i++;
      continue;
    }
    if (c === "\\" && text[i + 1] === "\n") {
      continuation = true;
      line++;
      i += 2;
      atLineStart = true;
      continue;
    }
    if (c === "(" || c === "[" || c === "{") {
      brackets.push({ ch: c, line });
      i++;
      continue;
    }
    if (c === ")" || c === "]" || c === "}") {
      const open = brackets.pop();
      if (!open) return { pyType: "SyntaxError", message: `unmatched '${c}'`, line };
      if (open.ch !== CLOSERS[c]) {
        const where = open.line === line ? "" : ` on line ${open.line}`;
        return {
          pyType: "SyntaxError",
          message: `closing parenthesis '${c}' does not match opening parenthesis '${open.ch}'${where}`,
          line,
        };
      }
      i++;
      continue;
    }
    if (c === '"' || c === "'") {
      const start = line;
      const triple = text[i + 1] === c && text[i + 2] === c;
      const quote = triple ? c.repeat(3) : c;
      i += quote.length;
      for (;;) {
        if (i >= n) {
          return triple
            ? {
                pyType: "SyntaxError",
                message: `unterminated triple-quoted string literal (detected at line ${lastLine})`,
                line: start,
              }
            : {
                pyType: "SyntaxError",
                message: `unterminated string literal (detected at line ${start})`,
                line: start,
              };
        }
        const d = text[i]!;
        if (d === "\\") {
          if (text[i + 1] === "\n") line++;
          i += 2;
          continue;
        }
        if (d === "\n") {
          if (!triple)
            return {
              pyType: "SyntaxError",
              message: `unterminated string literal (detected at line ${start})`,
              line: start,
            };
          line++;
          i++;
          continue;
        }
        if (text.startsWith(quote, i)) {
          i += quote.length;
          break;
        }
        i++;
      }
      continue;
    }
    i++;
  }
  if (brackets.length > 0) {
    const open = brackets[brackets.length - 1]!;
    return { pyType: "SyntaxError", message: `'${open.ch}' was never closed`, line: open.line, unclosed: true };
  }
  return undefined;
}

function tabError(line: number): TokenizerError {
  return { pyType: "TabError", message: "inconsistent use of tabs and spaces in indentation", line };
}

function countNewlines(s: string): number {
  let k = 0;
  for (let i = s.indexOf("\n"); i >= 0; i = s.indexOf("\n", i + 1)) k++;
  return k;
}
