// Library audit: ELF headers, ld.so.cache and ld.so.conf, an emulation of
// glibc's library search over the planned image, and findings about packages.
export * from "./bytesource.js";
export * from "./elf.js";
export * from "./elfwrite.js";
export * from "./imagefs.js";
export * from "./profile.js";
export * from "./ldcache.js";
export * from "./ldconf.js";
export * from "./ldconfig.js";
export * from "./linker.js";
export * from "./findings.js";
export * from "./pollute.js";
export * from "./audit.js";
// Workflows: the planned image of a resolve, repairs, suggestions, reports.
export * from "./workflow/index.js";
export * from "./repair.js";
export * from "./suggest.js";
export * from "./report.js";
