/**
 * `deno run <URL of main.ts>`: the checkout is served over loopback HTTP as a raw file host
 * serves it (every file `text/plain`), and a real backup runs from that URL in a folder
 * with no deno.json, with a fresh DENO_DIR (so nothing comes from this checkout's cache),
 * and with only the permissions the README gives: no --allow-net, no --allow-run.
 */
import { assert } from "../deps.ts";
import { path } from "../../src/deps.ts";
import { RUN_FLAGS } from "../../src/permissions.ts";
import { assertSameAndSummed, makeCardTree, REPO, sh, testFolder } from "../helpers.ts";

/** Serves the files of the checkout as text/plain, and notes every path asked for. */
function serveCheckout() {
  const requested: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const wanted = decodeURIComponent(new URL(req.url).pathname);
    requested.push(wanted);
    const file = path.join(REPO, path.normalize(wanted));
    if (!file.startsWith(REPO + path.sep) || file.includes(`${path.sep}.test-tmp${path.sep}`)) {
      return new Response("not found", { status: 404 });
    }
    try {
      return new Response(await Deno.readFile(file), {
        headers: { "content-type": "text/plain; charset=utf-8" },
      });
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
  return { server, requested, port: server.addr.port };
}

/**
 * Runs `fanout backup --json <args>` from the served checkout, with a fresh DENO_DIR in a
 * folder outside it; returns the summary and the paths the server was asked for.
 */
async function backupFromUrl(args: string[]) {
  // Outside the checkout, so that no deno.json or deno.lock is found above it.
  const work = await Deno.makeTempDir({ prefix: "fanout-url-" });
  const { server, requested, port } = serveCheckout();
  try {
    const output = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        ...RUN_FLAGS,
        `http://127.0.0.1:${port}/main.ts`,
        "backup",
        "--json",
        ...args,
      ],
      cwd: work,
      env: { DENO_DIR: path.join(work, "deno-dir"), NO_COLOR: "1" },
      stdin: "null",
    }).output();
    const stderr = new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 0, stderr);
    const summary = JSON.parse(new TextDecoder().decode(output.stdout).trim().split("\n").at(-1)!);
    return { summary, requested };
  } finally {
    await server.shutdown();
    await Deno.remove(work, { recursive: true });
  }
}

Deno.test("a backup runs from a URL with the README's permissions, a fresh DENO_DIR and no deno.json", async () => {
  await using folder = await testFolder();
  const source = path.join(folder.path, "card");
  await makeCardTree(source);
  const destinations = [path.join(folder.path, "ssd"), path.join(folder.path, "usb")];
  // A rule for the scan and one for the workers: picomatch is loaded on first use, from
  // where the rest came.
  const { summary, requested } = await backupFromUrl([
    "--exclude",
    ".Trashes",
    "--priority",
    "*.CR3=high",
    source,
    ...destinations,
  ]);
  assert.deepEqual(
    summary.destinations.map((d: { status: string; readBack: { source: string } }) => [
      d.status,
      d.readBack.source,
    ]),
    [["ok", "disk"], ["ok", "disk"]],
  );
  for (const destination of destinations) await assertSameAndSummed(source, destination);
  assert.ok(requested.includes("/main.ts"));
  assert.ok(
    requested.includes("/src/queue/destination_worker.ts"),
    "the destination worker is loaded from the URL too",
  );
  assert.ok(!requested.some((p) => /deno\.jsonc?$|deno\.lock$/.test(p)), requested.join(" "));
});

Deno.test("--hash blake3 runs from a URL too: hash-wasm is loaded on first use", async () => {
  await using folder = await testFolder();
  const source = path.join(folder.path, "card");
  await makeCardTree(source);
  const destination = path.join(folder.path, "ssd");
  const { summary } = await backupFromUrl(["--hash", "blake3", source, destination]);
  assert.equal(summary.destinations[0].status, "ok");
  const check = await sh("b3sum", ["--check", ".fanout/B3SUMS"], { cwd: destination });
  assert.equal(check.code, 0, check.stdout + check.stderr);
  assert.ok(check.stdout.includes("DCIM/100CANON/IMG_0001.CR3: OK"), check.stdout);
});
