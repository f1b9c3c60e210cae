import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cacheDir, cachePath, storeDir } from "./locations.js";

describe("locations", () => {
  it("puts the store at --store, else $TANTALUS_STORE, else the configuration's, else beside the cache", () => {
    const env = {
      HOME: "/home/ann",
      XDG_CACHE_HOME: "/xdg",
      TANTALUS_STORE: "/nfs/store",
      TANTALUS_CACHE_DIR: "/scratch/c",
    };
    assert.equal(storeDir({ flag: "/flag", configured: "/cfg" }, env), "/flag");
    assert.equal(storeDir({ configured: "/cfg" }, env), "/nfs/store");
    assert.equal(storeDir({ configured: "/cfg" }, { ...env, TANTALUS_STORE: "" }), "/cfg");
    // TANTALUS_CACHE_DIR moves the caches, never the store.
    assert.equal(storeDir({}, { ...env, TANTALUS_STORE: "" }), "/xdg/tantalus/store");
    assert.equal(storeDir({}, { HOME: "/home/ann" }), "/home/ann/.cache/tantalus/store");
  });

  it("puts the caches in $TANTALUS_CACHE_DIR, else $XDG_CACHE_HOME/tantalus, else ~/.cache/tantalus", () => {
    assert.equal(
      cacheDir({ HOME: "/home/ann", XDG_CACHE_HOME: "/xdg", TANTALUS_CACHE_DIR: "/scratch/c" }),
      "/scratch/c",
    );
    assert.equal(cachePath("audit", { HOME: "/home/ann", XDG_CACHE_HOME: "/xdg" }), "/xdg/tantalus/audit");
    assert.equal(cachePath("run", { HOME: "/home/ann" }), "/home/ann/.cache/tantalus/run");
    // tantalus run knows the user's home better than $HOME (sudo).
    assert.equal(cachePath("run", {}, "/home/bob"), "/home/bob/.cache/tantalus/run");
  });
});
