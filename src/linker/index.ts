// The dynamic linker, emulated: ELF headers (read and, for tests and the
// pollution check, written), ld.so.cache and ld.so.conf, and glibc's library
// search over an image file system, per distribution profile. It knows
// nothing of Rez or OCI: src/audit decides what a search result means for a
// workflow image, src/image assembles the demo base from what it reads.
export * from "./bytesource.js";
export * from "./elf.js";
export * from "./elfwrite.js";
export * from "./imagefs.js";
export * from "./profile.js";
export * from "./ldcache.js";
export * from "./ldconf.js";
export * from "./ldconfig.js";
export * from "./linker.js";
