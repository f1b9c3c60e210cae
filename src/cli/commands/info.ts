import type { Command } from "@commander-js/extra-typings";
import { checkRequestArgs, findConfig, openRepositories, printJson } from "../common.js";
import { Requirement } from "../../rez/version/index.js";
import { TantalusError, formatLocation } from "../../errors.js";
import { closestName } from "../../util/suggest.js";
import { describePackage, packagesInRange } from "../../rez/query.js";
import { lateAttributeEvaluator, lateOptionsOf } from "../../rex/late.js";

export function register(program: Command): void {
  program
    .command("info")
    .description("show a package: its versions, requirements, variants and where it lives")
    .argument("<package>", "PKG or PKG-VERSION (any Rez requirement, e.g. 'usd-24', 'python<3.11')")
    .option("--paths <paths>", "package search paths, colon-separated")
    .option(
      "--config <file>",
      "configuration file (default: TANTALUS_CONFIG, else ./tantalus.yaml or the nearest in a parent folder)",
    )
    .option("--json", "print as JSON")
    .action((spec, opts) => {
      checkRequestArgs([spec]);
      const req = Requirement.parse(spec);
      const repos = openRepositories(opts);
      const family = repos.family(req.name);
      if (!family || family.length === 0) {
        const near = closestName(req.name, repos.familyNames());
        throw new TantalusError(
          `package family '${req.name}' not found in ${repos.paths.join(":")}${near ? `; did you mean ${near}?` : ""}`,
        );
      }
      const matching = packagesInRange(family, req);
      if (matching.length === 0) {
        throw new TantalusError(
          `no version of '${req.name}' matches '${spec}' (versions: ${packagesInRange(family)
            .map((p) => p.version.toString())
            .join(", ")})`,
        );
      }
      const latest = matching[0]!;
      repos.saveCaches();
      // The package a resolve of this request would reach first: a broken one is an error, as in Rez.
      latest.assertLoaded();
      const info = describePackage(
        latest,
        packagesInRange(family).map((p) => p.version.toString()),
        lateAttributeEvaluator(lateOptionsOf(findConfig(opts))),
      );
      const broken = packagesInRange(family)
        .filter((p) => p.broken)
        .map((p) => ({ version: p.version.toString(), ...p.broken! }));
      if (opts.json) {
        printJson({ ...info, broken });
        return;
      }
      const out: string[] = [];
      out.push(`${info.qualifiedName}`);
      if (info.description) out.push(`  description: ${info.description}`);
      out.push(`  file:        ${info.file}`);
      out.push(`  repository:  ${info.repository}`);
      out.push(`  versions:    ${info.versions.join(" ")}`);
      for (const b of broken)
        out.push(`  broken:      ${b.version}: ${formatLocation({ file: b.file, line: b.line })}: ${b.message}`);
      if (info.timestamp !== undefined)
        out.push(`  timestamp:   ${info.timestamp} (${new Date(info.timestamp * 1000).toISOString()})`);
      out.push(
        `  requires:    ${info.late_requires ? "(@late: evaluated at resolve time)" : info.requires.join(" ") || "-"}`,
      );
      if (info.tools.length) out.push(`  tools:       ${info.tools.join(" ")}`);
      out.push(`  variants:`);
      for (const v of info.variants) out.push(`    [${v.index ?? ""}] ${v.requires.join(" ") || "-"}  ${v.root}`);
      process.stdout.write(out.join("\n") + "\n");
    });
}
