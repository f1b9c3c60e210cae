/** HTML text helpers and the shell every page of the report shares. */

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Tagged template that escapes every interpolated value unless it is already `Html`. */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

type Part = string | number | Html | undefined | null | false | readonly (string | Html)[];

export function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  let out = strings[0] ?? "";
  values.forEach((v, i) => {
    out += render(v) + (strings[i + 1] ?? "");
  });
  return new Html(out);
}

function render(v: Part): string {
  if (v === undefined || v === null || v === false) return "";
  if (v instanceof Html) return v.text;
  if (Array.isArray(v))
    return (v as readonly (string | Html)[]).map((x) => (x instanceof Html ? x.text : escapeHtml(x))).join("");
  return escapeHtml(String(v));
}

export function raw(text: string): Html {
  return new Html(text);
}

/** A page's id (its file name without .html) and its title in the navigation. */
export interface PageLink {
  id: string;
  title: string;
}

/** The document around a page's main content: skip link, navigation (current page marked), styles and script by relative path. */
export function pageShell(opts: { title: string; page: string; pages: readonly PageLink[]; body: Html }): string {
  const nav = opts.pages.map(
    (p) =>
      html`<li><a href="${p.id}.html" ${p.id === opts.page ? raw(' aria-current="page"') : ""}>${p.title}</a></li>`,
  );
  const current = opts.pages.find((p) => p.id === opts.page)?.title ?? opts.page;
  return (
    "<!doctype html>\n" +
    html`<html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${current} · ${opts.title}</title>
        <link rel="stylesheet" href="assets/report.css" />
        <script src="assets/report.js" defer></script>
      </head>
      <body>
        <a class="skip" href="#main">Skip to content</a>
        <header>
          <p class="brand">${opts.title}</p>
          <nav aria-label="Report pages">
            <ul>
              ${nav}
            </ul>
          </nav>
        </header>
        <main id="main" tabindex="-1">${opts.body}</main>
      </body>
    </html> `.text
  );
}
