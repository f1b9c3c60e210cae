/**
 * What reading Rez's configuration adds to loading the configuration (every
 * command loads it once): CPU time per loadConfig with no Rez configuration,
 * with only REZ_PACKAGES_PATH, with a rezconfig.py, and with a .py and a YAML
 * file, over test/fixtures/rez-config. CPU time, not wall time, so a busy
 * machine does not skew it.
 * Run: npm run bench -- config
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../src/config/index.js";

const FIXTURE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "test", "fixtures", "rez-config");

export async function run(_args: string[]): Promise<void> {
  const base = { HOME: path.join(FIXTURE, "no-home"), TANTALUS_SITE_CONFIG: "", FIXTURE, PATH: process.env.PATH };
  const cases: [string, Record<string, string>][] = [
    ["Rez configuration left out", { TANTALUS_NO_REZ_CONFIG: "1" }],
    ["no Rez configuration present", {}],
    ["REZ_PACKAGES_PATH only", { REZ_PACKAGES_PATH: `${FIXTURE}/main` }],
    ["one rezconfig.py", { REZ_CONFIG_FILE: `${FIXTURE}/configs/filters.py` }],
    [
      "a rezconfig.py and a YAML file",
      { REZ_CONFIG_FILE: `${FIXTURE}/configs/platform_map_os.py:${FIXTURE}/configs/platform_map_arch.yaml` },
    ],
  ];
  for (const [label, env] of cases) {
    const load = () => loadConfig(undefined, { cwd: FIXTURE, env: { ...base, ...env }, required: false });
    for (let i = 0; i < 20; i++) load();
    const n = 300;
    const t0 = process.cpuUsage();
    for (let i = 0; i < n; i++) load();
    const used = process.cpuUsage(t0);
    console.log(`${label.padEnd(32)} ${((used.user + used.system) / n / 1000).toFixed(3)} ms CPU per load`);
  }
  return Promise.resolve();
}
