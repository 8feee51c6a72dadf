/**
 * `deno task compile [--target TARGET] [--dry-run]`: builds fanout as one executable with
 * `deno compile`, the permissions of src/permissions.ts baked in, and every module that
 * runs as a Web Worker included (found in src/ by its `new Worker(new URL("…",
 * import.meta.url))`, so a new worker cannot be forgotten).
 *
 * Without --target it builds `dist/fanout` for this system; with one, `dist/fanout-TARGET`
 * (`.exe` for Windows). `--dry-run` prints the `deno compile` command without running it.
 * `deno compile` downloads Deno's runtime for the target from dl.deno.land the first time.
 *
 * The executable also gets `--allow-net`, which `deno run` users give per host: a compiled
 * program cannot be granted permissions when it starts, and `--ping URL` (the only network
 * use fanout has) must work in it.
 */
import { fileURLToPath } from "node:url";
import { path } from "../src/deps.ts";
import { PERMISSION_FLAGS, V8_FLAGS } from "../src/permissions.ts";

/** The targets `deno compile --target` accepts. */
export const TARGETS = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
  "x86_64-pc-windows-msvc",
] as const;

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const WORKER = /new Worker\(\s*new URL\(\s*"([^"]+)",\s*import\.meta\.url\s*\)/g;

/** Every module under `folder` started as a Web Worker, relative to the repository. */
export async function workerModules(folder = path.join(REPO, "src")): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(folder)) {
    const child = path.join(folder, entry.name);
    if (entry.isDirectory) found.push(...await workerModules(child));
    else if (entry.name.endsWith(".ts")) {
      for (const match of (await Deno.readTextFile(child)).matchAll(WORKER)) {
        const module = path.resolve(path.dirname(child), match[1]);
        found.push(path.relative(REPO, module).split(path.sep).join("/"));
      }
    }
  }
  return [...new Set(found)].sort();
}

/**
 * The arguments of `deno compile` for `target` (null: this system).
 *
 * @example
 * await compileArgs("x86_64-pc-windows-msvc");
 * // ["compile", "--allow-read", …, "--target", "x86_64-pc-windows-msvc",
 * //  "--output", "dist/fanout-x86_64-pc-windows-msvc.exe", "main.ts"]
 */
export async function compileArgs(target: string | null): Promise<string[]> {
  const includes = (await workerModules()).flatMap((module) => ["--include", module]);
  const output = target === null
    ? "dist/fanout"
    : `dist/fanout-${target}${target.includes("windows") ? ".exe" : ""}`;
  return [
    "compile",
    ...PERMISSION_FLAGS,
    "--allow-net",
    ...V8_FLAGS,
    ...includes,
    ...(target === null ? [] : ["--target", target]),
    "--output",
    output,
    "main.ts",
  ];
}

function usage(message: string): never {
  console.error(`compile: ${message}`);
  console.error(`usage: deno task compile [--target ${TARGETS.join("|")}] [--dry-run]`);
  Deno.exit(2);
}

if (import.meta.main) {
  const args = [...Deno.args];
  const dryRun = args.includes("--dry-run");
  const rest = args.filter((arg) => arg !== "--dry-run");
  let target: string | null = null;
  if (rest[0] === "--target" && rest.length === 2) target = rest[1];
  else if (rest[0]?.startsWith("--target=") && rest.length === 1) target = rest[0].slice(9);
  else if (rest.length > 0) usage(`unknown arguments: ${rest.join(" ")}`);
  if (target !== null && !(TARGETS as readonly string[]).includes(target)) {
    usage(`unknown target ${target}`);
  }
  const compile = await compileArgs(target);
  console.log(`deno ${compile.join(" ")}`);
  if (!dryRun) {
    const { code } = await new Deno.Command(Deno.execPath(), { args: compile, cwd: REPO })
      .spawn().status;
    Deno.exit(code);
  }
}
