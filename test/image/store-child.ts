/**
 * Child process for the store tests: things that need a second process
 * (being SIGKILLed half-way through a layer, writing index.json concurrently).
 *   store-child.ts die-mid-layer STORE SRC      SIGKILLs itself while the layer is being written
 *   store-child.ts tag-many STORE PREFIX N      builds N tiny images and tags PREFIX:0..N-1
 *   store-child.ts hold-lock STORE STALE_MS     takes the store lock, prints "locked", holds it until stdin closes
 */
import { OciStore, writeImage, writeLayer } from "../../src/image/index.js";

const [mode, storeDir, a, b] = process.argv.slice(2);
const store = await OciStore.open(storeDir!, mode === "hold-lock" ? { lock: { staleMs: Number(a) } } : {});

if (mode === "die-mid-layer") {
  let files = 0;
  await writeLayer(
    store,
    { entries: [{ type: "tree", source: a!, path: "/pkg" }] },
    {
      onEntry: (e) => {
        // Kill only after some compressed output has reached the temp blob file.
        if (e.kind === "file" && ++files === 4) process.kill(process.pid, "SIGKILL");
      },
      chunkBytes: 4096,
    },
  );
  throw new Error("unreachable: should have been killed");
} else if (mode === "tag-many") {
  const n = Number(b);
  for (let i = 0; i < n; i++) {
    const layer = await writeLayer(store, { entries: [{ type: "file", path: "/id", content: `${a}-${i}` }] });
    const img = await writeImage(store, {
      layers: [{ layer: layer.descriptor }],
      config: { Labels: { who: `${a}-${i}` } },
    });
    await store.tag(`${a}:${i}`, img.descriptor);
  }
} else if (mode === "hold-lock") {
  await store.withLock(async () => {
    process.stdout.write("locked\n");
    process.stdin.resume();
    await new Promise((resolve) => process.stdin.once("end", resolve));
  });
} else {
  throw new Error(`unknown mode ${mode}`);
}
