import { stringify } from "yaml";
import type { PackageSpec } from "../model.js";
import { pyListBlock, pyRepr } from "./pyrepr.js";

/** Epoch seconds of a "YYYY-MM-DD" release date (noon UTC). */
export function releaseTimestamp(date: string): number {
  const t = Date.parse(`${date}T12:00:00Z`);
  if (Number.isNaN(t)) throw new Error(`bad release date ${date}`);
  return t / 1000;
}

/**
 * package.py in the layout rez-build installs: plain fields first, functions
 * as source, timestamp and format_version last.
 */
export function renderPackagePy(pkg: PackageSpec): string {
  const out: string[] = ["# -*- coding: utf-8 -*-", ""];
  const field = (name: string, text: string) => out.push(`${name} = ${text}`, "");
  field("name", pyRepr(pkg.name));
  field("version", pyRepr(pkg.version));
  field("description", pyRepr(pkg.description));
  if (pkg.authors) field("authors", pyRepr(pkg.authors));
  // A field computed by an @early/@late function in extraPy is not also written plainly.
  const computed = (f: string) => pkg.extraPy !== undefined && new RegExp(`^def ${f}\\(`, "m").test(pkg.extraPy);
  if (pkg.tools && !computed("tools")) field("tools", pyListBlock(pkg.tools));
  if (pkg.requires && !computed("requires")) field("requires", pyListBlock(pkg.requires));
  if (pkg.variants && !computed("variants")) field("variants", pyRepr(pkg.variants));
  if (pkg.hashedVariants) field("hashed_variants", "True");
  for (const [k, v] of Object.entries(pkg.attributes ?? {})) field(k, pyRepr(v));
  if (pkg.tantalus) field("tantalus", pyRepr(pkg.tantalus));
  if (pkg.extraPy) out.push(pkg.extraPy.trim(), "");
  for (const [fn, body] of [
    ["pre_commands", pkg.preCommands],
    ["commands", pkg.commands],
    ["post_commands", pkg.postCommands],
  ] as const) {
    if (body) out.push(`def ${fn}():`, indent(body.trim()), "");
  }
  field("timestamp", String(releaseTimestamp(pkg.released)));
  field("format_version", "2");
  return out.join("\n").replace(/\n+$/, "\n");
}

/** package.yaml, the older format the filesystem repository still reads. */
export function renderPackageYaml(pkg: PackageSpec): string {
  if (pkg.extraPy || pkg.preCommands || pkg.postCommands) {
    throw new Error(`${pkg.name}: package.yaml cannot hold @early/@late code or pre/post commands`);
  }
  const doc: Record<string, unknown> = {
    name: pkg.name,
    version: pkg.version,
    description: pkg.description,
  };
  if (pkg.authors) doc.authors = pkg.authors;
  if (pkg.tools) doc.tools = pkg.tools;
  if (pkg.requires) doc.requires = pkg.requires;
  if (pkg.variants) doc.variants = pkg.variants;
  if (pkg.hashedVariants) doc.hashed_variants = true;
  Object.assign(doc, pkg.attributes ?? {});
  if (pkg.tantalus) doc.tantalus = pkg.tantalus;
  if (pkg.commands) doc.commands = pkg.commands.trim() + "\n";
  doc.timestamp = releaseTimestamp(pkg.released);
  doc.format_version = 2;
  return stringify(doc, { lineWidth: 0 });
}

function indent(body: string): string {
  return body
    .split("\n")
    .map((l) => (l.trim() === "" ? "" : "    " + l))
    .join("\n");
}
