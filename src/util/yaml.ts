/**
 * A YAML document to plain values without the alias bomb reaching the user
 * as a stack trace. The yaml library refuses a document whose aliases expand
 * into too many nodes ("billion laughs") with a bare ReferenceError that has
 * no position; here it becomes an InputError at the alias that expands.
 */
import { isAlias, isCollection, visit, type Document, type LineCounter, type ToJSOptions } from "yaml";
import { InputError } from "../errors.js";

export function documentToJs(doc: Document, lineCounter: LineCounter, file: string, opts: ToJSOptions = {}): unknown {
  try {
    return doc.toJS(opts);
  } catch (e) {
    if (!(e instanceof ReferenceError) || !/excessive alias count/i.test(e.message)) throw e;
    const line = culpritLine(doc, lineCounter);
    throw new InputError(
      `aliases expand into too many values (at most ${opts.maxAliasCount ?? 100} expansions are allowed; nested '*' aliases multiply): the document is refused as a resource exhaustion attack`,
      line === undefined ? { file } : { file, line },
    );
  }
}

/** The first alias whose anchored value holds aliases itself (the nesting that multiplies), else the first alias. */
function culpritLine(doc: Document, lineCounter: LineCounter): number | undefined {
  let first: number | undefined;
  let nested: number | undefined;
  visit(doc, {
    Alias(_key, node) {
      const offset = node.range?.[0];
      if (offset === undefined) return;
      const line = lineCounter.linePos(offset).line;
      first ??= line;
      const target = node.resolve(doc);
      let holdsAlias = false;
      if (target && isCollection(target)) visit(target, { Alias: () => ((holdsAlias = true), visit.BREAK) });
      if (holdsAlias || isAlias(target)) {
        nested = line;
        return visit.BREAK;
      }
    },
  });
  return nested ?? first;
}
