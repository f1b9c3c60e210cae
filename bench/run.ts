// `npm run bench -- NAME [args]`: dispatches to bench/NAME.ts, whose `run(args)` prints its figures.
const [name, ...args] = process.argv.slice(2);
if (!name) {
  process.stderr.write("usage: npm run bench -- <solve|load|...> [args]\n");
  process.exit(2);
}
const mod = (await import(`./${name}.ts`)) as { run(args: string[]): void | Promise<void> };
await mod.run(args);
