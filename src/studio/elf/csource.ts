import type { ElfSpec } from "../model.js";

/**
 * C text of one ELF object. Many objects share a translation unit (see
 * build.ts), so every name carries the object's prefix and every string lives
 * in its own static array (its own section under -fdata-sections, so
 * --gc-sections drops the strings of the other objects). Exported functions
 * are defined under prefixed names too and get their public name only when
 * the object is linked (--defsym): a unit therefore never defines a public
 * name, and a call to one always stays undefined until a DT_NEEDED library
 * provides it, whichever objects share the unit. Public names derive from the
 * SONAME, so a dependent calls whichever build of that SONAME it is linked with.
 */

/** Whether the object's code calls C library functions (libraries and modules only walk their dependencies). */
export function callsLibc(spec: ElfSpec): boolean {
  return spec.kind === "exe" || spec.program === "studio_core";
}

/** Libraries that come from the C library itself and need no studio provider. */
export const LIBC_SONAMES = new Set(["libc.so.6", "libm.so.6"]);

export function sonameSymbol(soname: string): string {
  return "tantalus_" + soname.replace(/[^A-Za-z0-9]/g, "_");
}

export const TU_PRELUDE = `#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <math.h>
typedef void (*tantalus_visit)(const char *, int);
`;

export interface Snippet {
  code: string;
  /** Dynamic symbols the object exports, each with the prefixed function that implements it. */
  exports: { name: string; internal: string }[];
}

export function cString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === "\\") out += "\\" + ch;
    else if (ch === "\n") out += "\\n";
    else if (c < 0x20 || c > 0x7e) out += "\\" + c.toString(8).padStart(3, "0");
    else out += ch;
  }
  return out + '"';
}

/** `p` is the object's unique prefix (e.g. "e42"); `filler` the .incbin path or null. */
export function elfSnippet(spec: ElfSpec, p: string, filler: string | null): Snippet {
  const lines: string[] = [`/* ${p}: ${spec.ident.replace(/\*\//g, "* /")} */`];
  const str = (name: string, value: string) => lines.push(`static const char ${p}_${name}[] = ${cString(value)};`);
  const studioDeps = spec.needs.filter((n) => !LIBC_SONAMES.has(n));
  for (const dep of studioDeps) {
    lines.push(`extern void ${sonameSymbol(dep)}_walk(tantalus_visit, int);`);
  }
  str("ident", spec.ident);
  if (filler) {
    lines.push(
      `__asm__(".pushsection .rodata.${p}_payload,\\"a\\",@progbits\\n.balign 64\\n.globl ${p}_payload\\n.hidden ${p}_payload\\n.type ${p}_payload,@object\\n${p}_payload:\\n.incbin \\"${filler}\\"\\n.globl ${p}_payload_end\\n.hidden ${p}_payload_end\\n${p}_payload_end:\\n.size ${p}_payload, ${p}_payload_end-${p}_payload\\n.popsection");`,
      `extern const unsigned char ${p}_payload[], ${p}_payload_end[];`,
      `static unsigned long ${p}_payload_bytes(void) { return (unsigned long)(${p}_payload_end - ${p}_payload); }`,
    );
  } else {
    lines.push(`static unsigned long ${p}_payload_bytes(void) { return 0; }`);
  }
  // Walk this object's own dependencies: the calls that make every DT_NEEDED real.
  const usesLibm = spec.needs.includes("libm.so.6");
  lines.push(
    `static void ${p}_walk_deps(tantalus_visit visit, int depth) {`,
    ...(usesLibm ? [`  if (depth < 0) depth = (int)floor((double)-depth);`] : []),
    ...studioDeps.map((d) => `  ${sonameSymbol(d)}_walk(visit, depth);`),
    `  (void)visit; (void)depth;`,
    `}`,
  );

  const exports: Snippet["exports"] = [];
  const exported = (name: string) => {
    const internal = `${p}_x_${name}`;
    exports.push({ name, internal });
    return internal;
  };
  switch (spec.kind) {
    case "lib": {
      if (!spec.soname) throw new Error(`${spec.path}: library without SONAME`);
      const sym = sonameSymbol(spec.soname);
      lines.push(
        `const char *${exported(`${sym}_info`)}(void) { return ${p}_ident; }`,
        `unsigned long ${exported(`${sym}_payload_bytes`)}(void) { return ${p}_payload_bytes(); }`,
        `void ${exported(`${sym}_walk`)}(tantalus_visit visit, int depth) { visit(${p}_ident, depth); ${p}_walk_deps(visit, depth + 1); }`,
      );
      if (spec.program === "studio_core") lines.push(...studioCoreApi(p, exported));
      break;
    }
    case "module": {
      lines.push(
        `static void ${p}_visit(const char *s, int depth) { (void)s; (void)depth; }`,
        `void *${exported(spec.entry ?? "tantalus_module_init")}(void) { ${p}_visit(${p}_ident, 0); if (${p}_payload_bytes() == 1) return 0; ${p}_walk_deps(${p}_visit, 1); return 0; }`,
      );
      break;
    }
    case "exe": {
      // Not exported: the link aliases main to it.
      const main = `${p}_x_main`;
      exports.push({ name: "main", internal: main });
      lines.push(...programText(spec, p, main));
      break;
    }
  }
  return { code: lines.join("\n") + "\n", exports };
}

/** The studio's own C API, used by launch_app (show lookup, the running app). */
function studioCoreApi(p: string, exported: (name: string) => string): string[] {
  return [
    `static const char ${p}_env_root[] = "SHOW_CONFIG_ROOT";`,
    `static const char ${p}_env_apps[] = "STUDIO_APPS";`,
    `static const char ${p}_fmt_show[] = "%s/shows/%s.yaml";`,
    `static const char ${p}_none[] = "none";`,
    `/* 0 when $SHOW_CONFIG_ROOT/shows/<show>.yaml is readable; the path tried is left in out. */`,
    `int ${exported("studio_core_find_show")}(const char *show, char *out, unsigned long size) {`,
    `  const char *root = getenv(${p}_env_root);`,
    `  if (!root || !*root) { if (size) out[0] = 0; return -1; }`,
    `  snprintf(out, size, ${p}_fmt_show, root, show);`,
    `  return access(out, R_OK) == 0 ? 0 : -1;`,
    `}`,
    `/* First entry of $STUDIO_APPS (colon separated, appended by the DCC packages' commands). */`,
    `const char *${exported("studio_core_first_app")}(char *out, unsigned long size) {`,
    `  const char *apps = getenv(${p}_env_apps);`,
    `  unsigned long n = 0;`,
    `  if (!apps || !*apps) return ${p}_none;`,
    `  while (apps[n] && apps[n] != ':' && n + 1 < size) { out[n] = apps[n]; n++; }`,
    `  out[n] = 0;`,
    `  return out;`,
    `}`,
  ];
}

function programText(spec: ElfSpec, p: string, main: string): string[] {
  const common = [
    `static const char ${p}_fmt_line[] = "%s\\n";`,
    `static const char ${p}_fmt_tree[] = "%*s%s\\n";`,
    `static const char ${p}_fmt_payload[] = "%s (payload %lu bytes)\\n";`,
    `static const char ${p}_empty[] = "";`,
    `static const char ${p}_opt_version[] = "--version";`,
    `static const char ${p}_opt_deps[] = "--deps";`,
    `static void ${p}_visit(const char *s, int depth) { printf(${p}_fmt_tree, depth * 2, ${p}_empty, s); }`,
    `static int ${p}_common(int argc, char **argv) {`,
    `  if (argc > 1 && strcmp(argv[1], ${p}_opt_deps) == 0) { ${p}_visit(${p}_ident, 0); ${p}_walk_deps(${p}_visit, 1); return 0; }`,
    `  if (argc > 1 && strcmp(argv[1], ${p}_opt_version) == 0) { printf(${p}_fmt_payload, ${p}_ident, ${p}_payload_bytes()); return 0; }`,
    `  return -1;`,
    `}`,
  ];
  switch (spec.program ?? "generic") {
    case "generic":
      return [
        ...common,
        `static const char ${p}_usage[] = "  --version  print the version\\n  --deps     print the library tree this program loaded\\n";`,
        `int ${main}(int argc, char **argv) {`,
        `  int rc = ${p}_common(argc, argv);`,
        `  if (rc >= 0) return rc;`,
        `  printf(${p}_fmt_line, ${p}_ident);`,
        `  fputs(${p}_usage, stdout);`,
        `  return 0;`,
        `}`,
      ];
    case "python":
      return [
        ...common,
        `static const char ${p}_opt_V[] = "-V";`,
        `static const char ${p}_refuse[] = ": this sample-studio interpreter only supports --version and --deps\\n";`,
        `int ${main}(int argc, char **argv) {`,
        `  int rc = ${p}_common(argc, argv);`,
        `  if (rc >= 0) return rc;`,
        `  if (argc > 1 && strcmp(argv[1], ${p}_opt_V) == 0) { printf(${p}_fmt_line, ${p}_ident); return 0; }`,
        `  fputs(argv[0], stderr); fputs(${p}_refuse, stderr);`,
        `  return 1;`,
        `}`,
      ];
    case "launch_app":
      return [
        ...common,
        `extern int studio_core_find_show(const char *show, char *out, unsigned long size);`,
        `extern const char *studio_core_first_app(char *out, unsigned long size);`,
        `static const char ${p}_opt_show[] = "-show=";`,
        `static const char ${p}_opt_app[] = "-app=";`,
        `static const char ${p}_opt_help[] = "--help";`,
        `static const char ${p}_env_wf[] = "TANTALUS_WORKFLOW";`,
        `static const char ${p}_none[] = "none";`,
        `static const char ${p}_usage[] = "usage: launch_app -show=NAME [-app=NAME] [--version] [--deps]\\n";`,
        `static const char ${p}_fmt_bad[] = "launch_app: unknown option '%s'\\n";`,
        `static const char ${p}_fmt_noshow[] = "launch_app: unknown show '%s' (cannot read %s)\\n";`,
        `static const char ${p}_noroot[] = "launch_app: SHOW_CONFIG_ROOT is not set (is show_config in the environment?)\\n";`,
        `static const char ${p}_fmt_ok[] = "launch_app: show=%s workflow=%s user=%u app=%s\\n";`,
        `static const char ${p}_missing[] = "launch_app: missing -show=NAME\\n";`,
        `int ${main}(int argc, char **argv) {`,
        `  const char *show = 0, *app = 0, *wf;`,
        `  char path[4096], first[256];`,
        `  int i, rc = ${p}_common(argc, argv);`,
        `  if (rc >= 0) return rc;`,
        `  for (i = 1; i < argc; i++) {`,
        `    if (strncmp(argv[i], ${p}_opt_show, 6) == 0) show = argv[i] + 6;`,
        `    else if (strncmp(argv[i], ${p}_opt_app, 5) == 0) app = argv[i] + 5;`,
        `    else if (strcmp(argv[i], ${p}_opt_help) == 0) { fputs(${p}_usage, stdout); return 0; }`,
        `    else { fprintf(stderr, ${p}_fmt_bad, argv[i]); fputs(${p}_usage, stderr); return 2; }`,
        `  }`,
        `  if (!show || !*show) { fputs(${p}_missing, stderr); fputs(${p}_usage, stderr); return 2; }`,
        `  if (studio_core_find_show(show, path, sizeof path) != 0) {`,
        `    if (!path[0]) fputs(${p}_noroot, stderr); else fprintf(stderr, ${p}_fmt_noshow, show, path);`,
        `    return 1;`,
        `  }`,
        `  if (!app) app = studio_core_first_app(first, sizeof first);`,
        `  wf = getenv(${p}_env_wf);`,
        `  printf(${p}_fmt_ok, show, wf && *wf ? wf : ${p}_none, (unsigned)getuid(), app);`,
        `  return 0;`,
        `}`,
      ];
    case "studio_core":
      throw new Error(`${spec.path}: the studio_core program is a library`);
  }
}
