/**
 * `deno task compile` cannot finish here (`deno compile` downloads Deno's runtime), so this
 * checks what can be checked: the command the task would run, through its --dry-run, for
 * this system and for each other target: every module started as a Worker is included
 * (found here by a scan of its own), the permissions are those of `deno task start`, and the
 * output is named for the target.
 */
import { assert } from "./deps.ts";
import { path } from "../src/deps.ts";
import { PERMISSION_FLAGS, V8_FLAGS } from "../src/permissions.ts";
import { REPO, sh } from "./helpers.ts";

async function sourceFiles(folder: string): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(folder)) {
    const child = path.join(folder, entry.name);
    if (entry.isDirectory) files.push(...await sourceFiles(child));
    else if (entry.name.endsWith(".ts")) files.push(child);
  }
  return files;
}

/** Modules given to `new Worker(...)` anywhere in src/, relative to the repository. */
async function workerModules(): Promise<string[]> {
  const workers: string[] = [];
  for (const file of await sourceFiles(path.join(REPO, "src"))) {
    const text = await Deno.readTextFile(file);
    for (const match of text.matchAll(/new Worker\(\s*new URL\("([^"]+)", import\.meta\.url\)/g)) {
      workers.push(path.relative(REPO, path.resolve(path.dirname(file), match[1])));
    }
  }
  return workers;
}

const tasks = () =>
  Deno.readTextFile(path.join(REPO, "deno.json")).then((text) => JSON.parse(text).tasks);

/** The `deno compile` words `deno task compile ARGS --dry-run` prints. */
async function dryRun(...args: string[]): Promise<string[]> {
  const task = (await tasks()).compile as string;
  const [program, ...words] = task.split(" ");
  const run = await sh(program, [...words, ...args, "--dry-run"], { cwd: REPO });
  assert.equal(run.code, 0, run.stderr);
  const line = run.stdout.trim();
  assert.match(line, /^deno compile /);
  return line.split(" ").slice(1);
}

Deno.test("every Worker module is included in the compiled executable", async () => {
  const workers = await workerModules();
  assert.ok(workers.includes("src/queue/destination_worker.ts"), "the destination worker is found");
  const words = await dryRun();
  const includes = words.flatMap((word, i) => words[i - 1] === "--include" ? [word] : []);
  for (const worker of workers) assert.ok(includes.includes(worker), `${worker} not included`);
});

Deno.test("the executable gets the permissions of deno task start, and the network for --ping", async () => {
  const words = await dryRun();
  const start = ((await tasks()).start as string).split(" ").filter((w) =>
    w.startsWith("--allow-")
  );
  assert.deepEqual(start.sort(), [...PERMISSION_FLAGS].sort());
  const baked = words.filter((word) => word.startsWith("--allow-"));
  assert.deepEqual(baked.sort(), [...PERMISSION_FLAGS, "--allow-net"].sort());
  assert.deepEqual(words.slice(-3), ["--output", "dist/fanout", "main.ts"]);
  // The heap settings of `deno task start` are baked in too.
  for (const flag of V8_FLAGS) {
    assert.ok(((await tasks()).start as string).split(" ").includes(flag), `start has ${flag}`);
    assert.ok(words.includes(flag), `compile has ${flag}`);
  }
});

Deno.test("a target builds a named executable for that system, .exe for Windows", async () => {
  const windows = await dryRun("--target", "x86_64-pc-windows-msvc");
  assert.deepEqual(windows.slice(-5), [
    "--target",
    "x86_64-pc-windows-msvc",
    "--output",
    "dist/fanout-x86_64-pc-windows-msvc.exe",
    "main.ts",
  ]);
  const mac = await dryRun("--target", "aarch64-apple-darwin");
  assert.deepEqual(mac.slice(-3), ["--output", "dist/fanout-aarch64-apple-darwin", "main.ts"]);
});

Deno.test("an unknown target is refused with the list of targets, exit 2", async () => {
  const task = ((await tasks()).compile as string).split(" ");
  const run = await sh(task[0], [...task.slice(1), "--target", "pdp11", "--dry-run"], {
    cwd: REPO,
  });
  assert.equal(run.code, 2);
  assert.match(run.stderr, /unknown target pdp11/);
  assert.match(run.stderr, /x86_64-pc-windows-msvc/);
});
