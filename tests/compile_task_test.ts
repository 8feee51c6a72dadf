/**
 * `deno task compile` cannot run here (it downloads Deno's runtime), so this checks what
 * can be checked: every module started as a Worker is listed with --include in the task,
 * and the task bakes in the same permissions as `deno task start`.
 */
import { assert } from "./deps.ts";
import { path } from "../src/deps.ts";
import { REPO } from "./helpers.ts";

async function sourceFiles(folder: string): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(folder)) {
    const child = path.join(folder, entry.name);
    if (entry.isDirectory) files.push(...await sourceFiles(child));
    else if (entry.name.endsWith(".ts")) files.push(child);
  }
  return files;
}

Deno.test("every Worker module is included in the compile task", async () => {
  const tasks = JSON.parse(await Deno.readTextFile(path.join(REPO, "deno.json"))).tasks;
  const includes = [...tasks.compile.matchAll(/--include (\S+)/g)].map((m) => m[1]);
  const workers: string[] = [];
  for (const file of await sourceFiles(path.join(REPO, "src"))) {
    const text = await Deno.readTextFile(file);
    for (const match of text.matchAll(/new Worker\(\s*new URL\("([^"]+)", import\.meta\.url\)/g)) {
      workers.push(path.relative(REPO, path.resolve(path.dirname(file), match[1])));
    }
  }
  assert.ok(workers.length > 0, "the destination worker is found");
  for (const worker of workers) assert.ok(includes.includes(worker), `${worker} not in --include`);
});

Deno.test("the compiled binary gets the same permissions as deno task start", async () => {
  const tasks = JSON.parse(await Deno.readTextFile(path.join(REPO, "deno.json"))).tasks;
  const permissions = (task: string) =>
    task.split(" ").filter((word) => word.startsWith("--allow-")).sort();
  assert.deepEqual(permissions(tasks.compile), permissions(tasks.start));
  assert.match(tasks.compile, /--output dist\/fanout main\.ts$/);
});
