/**
 * What a destination's worker loads when it starts, once per destination: no npm package.
 * Those that only some runs need (hash-wasm, picomatch) are imported on first use, and those
 * of the main thread (commander, smol-toml) are in deps modules of their own. The judge is
 * Deno's own module graph (`deno info --json`), walked along the imports that run at load.
 */
import { assert, fileURLToPath } from "../deps.ts";
import { sh } from "../helpers.ts";

interface Dependency {
  specifier: string;
  code?: { specifier?: string };
  isDynamic?: boolean;
}
interface GraphModule {
  specifier: string;
  dependencies?: Dependency[];
}

/** The specifiers `root` loads before it runs: static imports of code, not types. */
async function loadedAtStart(root: string): Promise<Set<string>> {
  const file = fileURLToPath(new URL(root, import.meta.url));
  const info = await sh(Deno.execPath(), ["info", "--json", file]);
  assert.equal(info.code, 0, info.stderr);
  const graph = JSON.parse(info.stdout) as {
    modules: GraphModule[];
    redirects: Record<string, string>;
  };
  const bySpecifier = new Map(graph.modules.map((module) => [module.specifier, module]));
  const loaded = new Set<string>();
  const visit = (specifier: string) => {
    const resolved = graph.redirects[specifier] ?? specifier;
    if (loaded.has(resolved)) return;
    loaded.add(resolved);
    for (const dependency of bySpecifier.get(resolved)?.dependencies ?? []) {
      const code = dependency.code?.specifier;
      if (code && !dependency.isDynamic) visit(code);
    }
  };
  visit(graph.modules.find((module) => module.specifier.endsWith(file))!.specifier);
  return loaded;
}

const npm = (loaded: Set<string>) =>
  [...loaded].filter((specifier) => specifier.startsWith("npm:"));

Deno.test("a destination's worker loads no npm package at its start; the command line loads its own", async () => {
  const worker = await loadedAtStart("../../src/queue/destination_worker.ts");
  assert.ok(
    [...worker].some((specifier) => specifier.endsWith("/src/deps.ts")),
    "the walk reaches src/deps.ts",
  );
  assert.deepEqual(npm(worker), []);
  // The control: the same walk from the command line finds its packages.
  const cli = npm(await loadedAtStart("../../src/cli/main.ts"));
  assert.ok(cli.some((specifier) => specifier.includes("commander")), cli.join(", "));
  assert.ok(cli.some((specifier) => specifier.includes("smol-toml")), cli.join(", "));
});
