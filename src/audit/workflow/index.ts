// Auditing workflows: the planned image of a resolve, its environment, and
// the findings, repairs and pollution check over every ELF object in it.
export * from "./base.js";
export * from "./image.js";
export * from "./closures.js";
export * from "./environment.js";
export * from "./audit.js";
export * from "./gate.js";
