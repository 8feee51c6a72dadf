/** Completion scripts generated from commander's description of the commands. */
import { assert } from "../deps.ts";
import { path } from "../../src/deps.ts";
import { Command, Option } from "../../src/cli/deps.ts";
import { completionScript } from "../../src/cli/completions.ts";
import { sh, testFolder } from "../helpers.ts";

const hasShell = async (name: string) => (await sh("sh", ["-c", `command -v ${name}`])).code === 0;
const hasFish = await hasShell("fish");
const hasZsh = await hasShell("zsh");

/** A small fanout-like program: a root option with a value, a subcommand with every kind of option. */
function fixture() {
  const program = new Command("fanout")
    .version("1.0.0", "-V, --version")
    .option("--config <file>", "the config file");
  const completions = new Command("completions").description("print a completion script");
  completions.addArgument(
    completions.createArgument("<shell>", "the shell").choices(["bash", "zsh", "fish"]),
  );
  program.addCommand(
    new Command("backup")
      .summary("copy a folder")
      .description("Copy a folder to several places at once.\nEvery copy is read back.")
      .argument("<source>", "folder to back up")
      .argument("<destination...>", "folders to back up into")
      .addOption(
        new Option("--order <order>", "which files go first").choices([
          "small-first",
          "large-first",
          "path",
        ]),
      )
      .option("-q, --quiet", "print only errors")
      .option("--log <file>", "append events to FILE")
      .addOption(new Option("--secret", "not shown").hideHelp()),
  );
  program.addCommand(completions);
  return program;
}

/** Runs the bash script's completion function on `words` (the last is the one completed). */
async function bashComplete(script: string, words: string[], cwd: string): Promise<string[]> {
  const file = path.join(cwd, "fanout.bash");
  await Deno.writeTextFile(file, script);
  const run = await sh("bash", [
    "-c",
    'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _fanout; printf "%s\\n" "${COMPREPLY[@]}"',
    "bash",
    file,
    ...words,
  ], { cwd });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stderr, "");
  return run.stdout.split("\n").filter((line) => line !== "").sort();
}

Deno.test("bash -n accepts the bash script", async () => {
  await using folder = await testFolder();
  const file = path.join(folder.path, "fanout.bash");
  await Deno.writeTextFile(file, completionScript("bash", fixture()));
  const run = await sh("bash", ["-n", file]);
  assert.equal(run.code, 0, run.stderr);
});

Deno.test("the bash script completes commands, options, choices and file names", async () => {
  await using folder = await testFolder();
  const script = completionScript("bash", fixture());
  await Deno.writeTextFile(path.join(folder.path, "a file.txt"), "");
  await Deno.mkdir(path.join(folder.path, "a folder"));
  const cases: [string[], string[]][] = [
    [["fanout", ""], ["backup", "completions", "help"]],
    [["fanout", "b"], ["backup"]],
    [["fanout", "-"], ["--config", "--help", "--version", "-V", "-h"]],
    [["fanout", "backup", "--"], ["--help", "--log", "--order", "--quiet"]],
    [["fanout", "backup", "-"], ["--help", "--log", "--order", "--quiet", "-h", "-q"]],
    [["fanout", "backup", "--order", ""], ["large-first", "path", "small-first"]],
    [["fanout", "backup", "--order", "l"], ["large-first"]],
    // bash splits `--order=s` into `--order`, `=`, `s`.
    [["fanout", "backup", "--order", "=", "s"], ["small-first"]],
    [["fanout", "backup", "--order", "="], ["large-first", "path", "small-first"]],
    [["fanout", "backup", "--log", "a"], ["a file.txt", "a folder"]],
    [["fanout", "backup", "a"], ["a file.txt", "a folder"]],
    [["fanout", "backup", "--order", "path", "a"], ["a file.txt", "a folder"]],
    [["fanout", "completions", ""], ["bash", "fish", "zsh"]],
    // The root option's value is not taken for the command.
    [["fanout", "--config", "backup", "completions", ""], ["bash", "fish", "zsh"]],
    [["fanout", "--config=backup", "--"], ["--config", "--help", "--version"]],
  ];
  for (const [words, expected] of cases) {
    // A word with "=" reaches the function split, as bash splits it.
    const split = words.flatMap((word) =>
      word.includes("=") && word !== "=" ? word.split(/(=)/) : word
    );
    assert.deepEqual(await bashComplete(script, split, folder.path), expected, words.join(" "));
  }
});

Deno.test("the zsh script describes the commands and gives _arguments every option", () => {
  const script = completionScript("zsh", fixture());
  assert.match(script, /^#compdef fanout\n/);
  const expected = [
    "'(--version -V)--version[output the version number]'",
    "'(--version -V)-V[output the version number]'",
    "'*--config=[the config file]:file:_files'",
    "'backup:copy a folder'",
    "'completions:print a completion script'",
    "'*--order=[which files go first]:order:(small-first large-first path)'",
    "'(--quiet -q)--quiet[print only errors]'",
    "'(--quiet -q)-q[print only errors]'",
    "'*--log=[append events to FILE]:file:_files'",
    "'(--help -h)--help[display help for command]'",
    "'1:folder to back up:_files'",
    "'*:folders to back up into:_files'",
    "'1:the shell:(bash zsh fish)'",
    "backup) _fanout_backup ;;",
  ];
  for (const text of expected) assert.ok(script.includes(text), text);
  assert.ok(!script.includes("secret"));
});

Deno.test("the fish script completes commands at the root and each command's options after it", () => {
  const script = completionScript("fish", fixture());
  const root = "-n 'not __fish_seen_subcommand_from backup completions help'";
  const backup = "-n '__fish_seen_subcommand_from backup'";
  const expected = [
    "complete -c fanout -f",
    `complete -c fanout ${root} -a backup -d 'copy a folder'`,
    `complete -c fanout ${root} -l version -s V -d 'output the version number'`,
    `complete -c fanout ${root} -l config -d 'the config file' -r -F`,
    `complete -c fanout ${backup} -l order -d 'which files go first' -x -a 'small-first large-first path'`,
    `complete -c fanout ${backup} -l quiet -s q -d 'print only errors'`,
    `complete -c fanout ${backup} -l log -d 'append events to FILE' -r -F`,
    `complete -c fanout ${backup} -F`,
    "complete -c fanout -n '__fish_seen_subcommand_from completions' -a 'bash zsh fish'",
  ];
  for (const line of expected) assert.ok(script.split("\n").includes(line), line);
  assert.ok(!script.includes("secret"));
});

Deno.test("a new option completes in every shell without a change to the generator", () => {
  const program = fixture();
  program.addCommand(
    new Command("verify").addOption(
      new Option("--speed <speed>", "how fast").choices(["slow", "fast"]),
    ),
  );
  assert.ok(completionScript("bash", program).includes("--speed) _fanout_reply 'slow fast'"));
  assert.ok(completionScript("zsh", program).includes("'*--speed=[how fast]:speed:(slow fast)'"));
  assert.ok(
    completionScript("fish", program).includes(
      "complete -c fanout -n '__fish_seen_subcommand_from verify' -l speed -d 'how fast' -x -a 'slow fast'",
    ),
  );
});

Deno.test("every script says how to install it", () => {
  assert.match(completionScript("bash", fixture()), /bash-completion\/completions\/fanout/);
  assert.match(completionScript("zsh", fixture()), /> ~\/\.zfunc\/_fanout/);
  assert.match(completionScript("fish", fixture()), /~\/\.config\/fish\/completions\/fanout\.fish/);
});

Deno.test({
  name: "fish -n accepts the fish script (ignored where fish is not installed)",
  ignore: !hasFish,
  fn: async () => {
    await using folder = await testFolder();
    const file = path.join(folder.path, "fanout.fish");
    await Deno.writeTextFile(file, completionScript("fish", fixture()));
    const run = await sh("fish", ["-n", file]);
    assert.equal(run.code, 0, run.stderr);
  },
});

Deno.test({
  name: "zsh -n accepts the zsh script (ignored where zsh is not installed)",
  ignore: !hasZsh,
  fn: async () => {
    await using folder = await testFolder();
    const file = path.join(folder.path, "_fanout");
    await Deno.writeTextFile(file, completionScript("zsh", fixture()));
    const run = await sh("zsh", ["-n", file]);
    assert.equal(run.code, 0, run.stderr);
  },
});
