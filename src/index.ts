// Library API: everything the CLI does is reachable from here.
export * from "./errors.js";
export { VERSION } from "./version.js";
