import type { PlanImage, PlanInput, PlanVariant } from "./types.js";

/**
 * A seeded synthetic studio for the planner's tests and benchmarks: shows pinned to a
 * VFX Reference Platform year, departments running one DCC each, and a long tail of
 * small studio tools whose versions each show pins on its own. Sizes follow the
 * shape of real repositories: a few multi-GB DCCs, platform libraries from a few MB to
 * hundreds, and many tools of a few hundred KB. Same options, same studio.
 */
export interface SyntheticOptions {
  seed: number;
  workflows: number;
  /** Approximate number of variants in the repository (the tools fill the difference). */
  variants: number;
  baseLayers?: number;
}

export const SYNTHETIC_TIERS = ["platform", "apps", "rest"];

const MB = 1024 * 1024;

/** VFX Reference Platform years: the python every python-built variant is built for. */
const YEARS = [
  { year: 2022, python: "3.9" },
  { year: 2023, python: "3.10" },
  { year: 2024, python: "3.11" },
  { year: 2025, python: "3.11" },
];

/** Platform libraries: median MB, whether built per python, requires (families), chance of a new version each year. */
const PLATFORM: [string, number, boolean, string[], number][] = [
  ["zlib", 0.3, false, [], 0.3],
  ["libpng", 1, false, ["zlib"], 0.4],
  ["libjpeg", 1, false, [], 0.3],
  ["libtiff", 3, false, ["zlib", "libjpeg"], 0.5],
  ["freetype", 3, false, ["zlib", "libpng"], 0.4],
  ["blosc", 1, false, ["zlib"], 0.5],
  ["python", 120, false, ["zlib"], 1],
  ["tbb", 8, false, [], 1],
  ["imath", 4, true, ["python"], 1],
  ["openexr", 25, false, ["imath", "zlib"], 1],
  ["boost", 180, true, ["python"], 1],
  ["numpy", 60, true, ["python"], 1],
  ["ocio", 20, true, ["python", "imath"], 1],
  ["oiio", 45, true, ["python", "openexr", "ocio", "libtiff", "libpng", "libjpeg", "freetype", "boost"], 1],
  ["ptex", 2, false, ["zlib"], 0.3],
  ["alembic", 15, true, ["imath", "openexr", "python"], 0.7],
  ["openvdb", 40, true, ["blosc", "tbb", "boost", "openexr", "python"], 1],
  ["opensubdiv", 20, false, ["tbb", "ptex"], 0.7],
  ["materialx", 90, true, ["python"], 1],
  ["osl", 60, false, ["oiio", "imath", "boost"], 1],
  ["qt", 600, false, ["zlib", "libpng", "freetype"], 1],
  ["pyside", 150, true, ["qt", "python"], 1],
  [
    "usd",
    350,
    true,
    [
      "boost",
      "tbb",
      "openexr",
      "imath",
      "oiio",
      "ocio",
      "alembic",
      "materialx",
      "openvdb",
      "opensubdiv",
      "python",
      "pyside",
    ],
    1,
  ],
  ["embree", 70, false, ["tbb"], 0.7],
  ["oidn", 150, false, ["tbb"], 0.7],
  ["ffmpeg", 80, false, ["zlib"], 0.5],
];

/** DCCs and renderers: median MB, requires. Each platform year has its own release. */
const APPS: [string, number, string[]][] = [
  ["maya", 3500, ["python", "qt", "pyside", "tbb", "usd"]],
  ["houdini", 4000, ["python", "qt", "pyside", "tbb", "usd", "openvdb", "alembic"]],
  ["nuke", 1500, ["python", "qt", "pyside", "ocio", "ffmpeg"]],
  ["katana", 1200, ["python", "qt", "pyside", "usd", "ocio", "oiio"]],
  ["mari", 2000, ["python", "qt", "pyside", "ocio", "ptex"]],
  ["arnold", 900, ["oiio", "ocio", "osl", "openvdb", "oidn"]],
  ["renderman", 1800, ["oiio", "ocio", "osl", "embree", "oidn"]],
  ["mtoa", 300, ["maya", "arnold"]],
  ["rfm", 250, ["maya", "renderman"]],
  ["htoa", 200, ["houdini", "arnold"]],
  ["rfh", 180, ["houdini", "renderman"]],
  ["ktoa", 150, ["katana", "arnold"]],
  ["rfk", 150, ["katana", "renderman"]],
];

const DEPARTMENTS: { dept: string; dcc: string; render: boolean }[] = [
  { dept: "model", dcc: "maya", render: false },
  { dept: "rig", dcc: "maya", render: false },
  { dept: "anim", dcc: "maya", render: false },
  { dept: "layout", dcc: "maya", render: true },
  { dept: "fx", dcc: "houdini", render: true },
  { dept: "crowd", dcc: "houdini", render: true },
  { dept: "light", dcc: "katana", render: true },
  { dept: "lookdev", dcc: "katana", render: true },
  { dept: "comp", dcc: "nuke", render: false },
  { dept: "paint", dcc: "mari", render: false },
];

const PLUGIN: Record<string, Record<string, string>> = {
  maya: { arnold: "mtoa", renderman: "rfm" },
  houdini: { arnold: "htoa", renderman: "rfh" },
  katana: { arnold: "ktoa", renderman: "rfk" },
};

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Family {
  name: string;
  tier: string;
  /** Versions; each with bytes per variant and the python of each variant (undefined when not per python). */
  versions: { version: string; bytes: number; pythons: (string | undefined)[] }[];
  requires: string[];
}

export function syntheticStudio(opts: SyntheticOptions): PlanInput {
  const rand = mulberry32(opts.seed);
  const int = (n: number): number => Math.floor(rand() * n);
  const normal = (): number => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const around = (medianBytes: number, sigma: number): number =>
    Math.max(512, Math.round(medianBytes * Math.exp(sigma * normal())));
  const pythons = [...new Set(YEARS.map((y) => y.python))];

  const families = new Map<string, Family>();
  /** family -> year index -> version index */
  const yearVersion = new Map<string, number[]>();

  for (const [name, mb, perPython, requires, change] of PLATFORM) {
    const f: Family = { name, tier: "platform", versions: [], requires };
    const perYear: number[] = [];
    YEARS.forEach((y, yi) => {
      if (yi === 0 || rand() < change) {
        f.versions.push({
          version: `${1 + f.versions.length}.${int(10)}.${yi}`,
          bytes: around(mb * MB, 0.2),
          pythons: perPython ? pythons : [undefined],
        });
      }
      perYear.push(f.versions.length - 1);
      void y;
    });
    families.set(name, f);
    yearVersion.set(name, perYear);
  }
  for (const [name, mb, requires] of APPS) {
    const f: Family = { name, tier: "apps", versions: [], requires };
    YEARS.forEach((y) =>
      f.versions.push({ version: `${y.year}.${int(4)}`, bytes: around(mb * MB, 0.15), pythons: [undefined] }),
    );
    families.set(name, f);
    yearVersion.set(
      name,
      YEARS.map((_, i) => i),
    );
  }
  const fixedVariants = [...families.values()].reduce(
    (s, f) => s + f.versions.reduce((t, v) => t + v.pythons.length, 0),
    0,
  );

  // Tools: 1-6 versions, a third built per python; ~3.9 variants per family on average.
  const toolCount = Math.max(10, Math.round((opts.variants - fixedVariants) / 3.9));
  const tools: string[] = [];
  for (let t = 0; t < toolCount; t++) {
    const name = `tool${String(t).padStart(4, "0")}`;
    const perPython = rand() < 0.33;
    const deps: string[] = [];
    const nDeps = int(4);
    for (let d = 0; d < nDeps && t > 0; d++) deps.push(tools[int(t)]!);
    if (perPython) deps.push("python");
    if (rand() < 0.15) deps.push("pyside");
    const f: Family = { name, tier: "rest", versions: [], requires: [...new Set(deps)] };
    const nVersions = 1 + int(6);
    const median = 300 * 1024 * Math.exp(1.2 * normal());
    for (let v = 0; v < nVersions; v++) {
      f.versions.push({
        version: `${1 + int(3)}.${v}.${int(20)}`,
        bytes: Math.min(60 * MB, around(median, 0.1)),
        pythons: perPython ? pythons : [undefined],
      });
    }
    families.set(name, f);
    tools.push(name);
  }

  // Shows pin a platform year, a renderer and a version of every tool.
  const showCount = Math.max(2, Math.round(opts.workflows / 5));
  const shows = Array.from({ length: showCount }, (_, s) => {
    const year = s % YEARS.length;
    const pins = new Map<string, number>();
    for (const t of tools) {
      const n = families.get(t)!.versions.length;
      pins.set(t, rand() < 0.6 ? n - 1 : int(n));
    }
    return { name: `show${String(s).padStart(2, "0")}`, year, renderer: rand() < 0.5 ? "arnold" : "renderman", pins };
  });
  // A core every workflow uses, and department kits.
  const core = tools.slice(0, Math.min(12, tools.length));
  const kits = new Map(DEPARTMENTS.map((d) => [d.dept, tools.filter(() => rand() < 12 / toolCount)]));

  const images: PlanImage[] = [];
  const names = new Set<string>();
  for (let w = 0; w < opts.workflows; w++) {
    const show = shows[w % showCount]!;
    const dept = DEPARTMENTS[Math.floor(w / showCount) % DEPARTMENTS.length]!;
    let name = `${show.name}-${dept.dept}`;
    for (let k = 2; names.has(name); k++) name = `${show.name}-${dept.dept}${k}`;
    names.add(name);

    const request = new Set<string>([dept.dcc, ...core, ...kits.get(dept.dept)!]);
    if (dept.render) {
      request.add(show.renderer);
      const plugin = PLUGIN[dept.dcc]?.[show.renderer];
      if (plugin) request.add(plugin);
    }
    for (const t of tools) if (rand() < 4 / toolCount) request.add(t);
    // Some workflows try a newer tool than the show's pin.
    const overrides = new Map<string, number>();
    for (const t of request)
      if (families.get(t)!.tier === "rest" && rand() < 0.1) overrides.set(t, families.get(t)!.versions.length - 1);

    const resolved = new Map<string, PlanVariant>();
    const python = YEARS[show.year]!.python;
    const visit = (family: string): string => {
      const known = resolved.get(family);
      if (known) return known.id;
      const f = families.get(family)!;
      const vi =
        f.tier === "rest" ? (overrides.get(family) ?? show.pins.get(family)!) : yearVersion.get(family)![show.year]!;
      const version = f.versions[vi]!;
      const index = version.pythons.length > 1 ? version.pythons.indexOf(python) : -1;
      const id = `${family}-${version.version}[${index < 0 ? "" : index}]@/synthetic`;
      const v: PlanVariant = {
        id,
        family,
        tier: f.tier,
        bytes: version.bytes,
        files: Math.max(1, Math.round(version.bytes / (256 * 1024))),
        requires: [],
      };
      resolved.set(family, v);
      v.requires = f.requires.map(visit);
      return id;
    };
    for (const family of [...request].sort()) visit(family);
    images.push({ name, baseLayers: opts.baseLayers ?? 1, variants: [...resolved.values()] });
  }
  return { images, tiers: [...SYNTHETIC_TIERS] };
}
