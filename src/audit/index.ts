// Library audit: what the emulated dynamic linker (src/linker) finds in the
// planned image, judged: findings about packages, the pollution check.
export * from "./findings.js";
export * from "./pollute.js";
export * from "./audit.js";
// Workflows: the planned image of a resolve, repairs, suggestions, reports.
export * from "./workflow/index.js";
export * from "./repair.js";
export * from "./suggest.js";
export * from "./report.js";
export * from "./migrate.js";
