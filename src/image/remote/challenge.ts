/**
 * `WWW-Authenticate` parsing (RFC 7235 §4.1): one header may hold several
 * challenges, each a scheme followed by comma-separated auth-params whose
 * values are tokens or quoted strings. Registries send
 * `Bearer realm="…",service="…",scope="repository:x:pull,push"` (note the
 * comma inside the quoted scope) or `Basic realm="…"`.
 */
export interface AuthChallenge {
  /** Lower-cased: "bearer", "basic". */
  scheme: string;
  /** Parameter names lower-cased. */
  params: Record<string, string>;
}

export function parseWwwAuthenticate(header: string): AuthChallenge[] {
  const challenges: AuthChallenge[] = [];
  let i = 0;
  const n = header.length;
  const skipSpace = (): void => {
    while (i < n && (header[i] === " " || header[i] === "\t")) i++;
  };
  const readToken = (): string => {
    const start = i;
    while (i < n && /[!#$%&'*+\-.^_`|~0-9A-Za-z]/.test(header[i]!)) i++;
    return header.slice(start, i);
  };
  const readQuoted = (): string => {
    // at the opening quote
    i++;
    let out = "";
    while (i < n && header[i] !== '"') {
      if (header[i] === "\\" && i + 1 < n) i++;
      out += header[i];
      i++;
    }
    i++; // closing quote (or end of input)
    return out;
  };

  let current: AuthChallenge | undefined;
  while (i < n) {
    skipSpace();
    if (header[i] === ",") {
      i++;
      continue;
    }
    const token = readToken();
    if (token === "") {
      i++; // stray character: skip it rather than loop forever
      continue;
    }
    skipSpace();
    if (header[i] === "=" && current !== undefined) {
      // auth-param of the current challenge (a token68 never follows a scheme here)
      i++;
      skipSpace();
      const value = header[i] === '"' ? readQuoted() : readToken();
      current.params[token.toLowerCase()] = value;
    } else {
      current = { scheme: token.toLowerCase(), params: {} };
      challenges.push(current);
      // token68 form ("Negotiate abc==") carries no params we use: skip it
      if (header[i] !== undefined && header[i] !== "," && header[i] !== "=") {
        const save = i;
        const next = readToken();
        skipSpace();
        if (header[i] === "=") {
          i++;
          skipSpace();
          const value = header[i] === '"' ? readQuoted() : readToken();
          current.params[next.toLowerCase()] = value;
        } else if (next === "") {
          i = save + 1;
        }
      }
    }
  }
  return challenges;
}
