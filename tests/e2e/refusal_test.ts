/**
 * Bad layouts and bad options are refused before anything is written: exit 2, one line on
 * stderr naming the problem, and the disk exactly as it was.
 */
import { assert } from "../deps.ts";
import { path } from "../../src/deps.ts";
import { listTree, runFanout, testFolder } from "../helpers.ts";

Deno.test("bad layouts and options exit 2 with one line and create nothing", async () => {
  await using folder = await testFolder();
  const at = (...parts: string[]) => path.join(folder.path, ...parts);
  await Deno.mkdir(at("card", "DCIM"), { recursive: true });
  await Deno.writeTextFile(at("card", "DCIM", "a.jpg"), "pixels");
  await Deno.writeTextFile(at("plain-file"), "not a folder");
  await Deno.mkdir(at("ssd"));
  await Deno.symlink(at("card"), at("card-link"));
  await Deno.symlink(at("card", "backup"), at("dangling"));

  const cases: [string, string[], RegExp][] = [
    ["missing source", ["backup", at("nope"), at("ssd", "x")], /source .*nope does not exist/],
    ["source is a file", ["backup", at("plain-file"), at("ssd", "x")], /is not a folder/],
    ["destination is the source", ["backup", at("card"), at("card")], /is the source itself/],
    [
      "destination through a symlink is the source",
      ["backup", at("card"), at("card-link")],
      /is the source itself/,
    ],
    [
      "destination inside the source",
      ["backup", at("card"), at("card", "DCIM", "backup")],
      /is inside the source/,
    ],
    ["destination contains the source", ["backup", at("card"), folder.path], /contains the source/],
    [
      "same destination twice",
      ["backup", at("card"), at("ssd", "x"), at("ssd", ".", "x")],
      /named twice/,
    ],
    [
      "destination is a file",
      ["backup", at("card"), at("plain-file")],
      /exists and is not a folder/,
    ],
    [
      "destination parent missing",
      ["backup", at("card"), at("unplugged", "card")],
      /parent folder .*unplugged does not exist/,
    ],
    [
      "destination is a dangling symlink into the source",
      ["backup", at("card"), at("dangling")],
      /dangling is a symlink to a folder that does not exist/,
    ],
    ["no destination", ["backup", at("card")], /missing required argument 'destination'/],
    ["bad --workers", ["backup", "--workers", "0", at("card"), at("ssd", "x")], /--workers/],
    [
      "bad --retries",
      ["backup", "--retries", "-1", at("card"), at("ssd", "x")],
      /--retries|unknown option/,
    ],
    ["unknown option", ["backup", "--fast", at("card"), at("ssd", "x")], /unknown option '--fast'/],
    ["unknown command", ["copy", at("card"), at("ssd", "x")], /unknown command 'copy'/],
  ];
  const before = await listTree(folder.path, { withRecords: true });
  for (const [name, args, message] of cases) {
    const run = await runFanout(args);
    assert.equal(run.code, 2, `${name}: exit ${run.code}\n${run.stderr}`);
    const lines = run.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 1, `${name}: one line expected:\n${run.stderr}`);
    assert.match(lines[0], /^fanout: /, name);
    assert.match(lines[0], message, name);
    assert.equal(run.stdout, "", name);
    assert.deepEqual(
      await listTree(folder.path, { withRecords: true }),
      before,
      `${name} wrote something`,
    );
  }
});

Deno.test("--help and --version exit 0", async () => {
  const help = await runFanout(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /backup .*<source> <destination\.\.\.>/);
  assert.match(help.stdout, /verify .*<destination>/);
  const backupHelp = await runFanout(["backup", "--help"]);
  assert.equal(backupHelp.code, 0);
  assert.match(backupHelp.stdout, /--no-verify/);
  const version = await runFanout(["--version"]);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
});
