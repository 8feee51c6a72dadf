/**
 * Records that a person or another program may have edited: whatever a manifest says, fanout
 * either refuses it with a clear error naming the line, or checks only files inside the
 * destination; a path through a symlink is reported, never followed.
 */
import { assert, fc } from "../deps.ts";
import { path } from "../../src/deps.ts";
import { FanoutError } from "../../src/errors.ts";
import type { RunEvent } from "../../src/coordinator/events.ts";
import { formatManifest, type ManifestEntry } from "../../src/verify/manifest.ts";
import { verifyDestination } from "../../src/verify/verify_destination.ts";
import { testFolder } from "../helpers.ts";

const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const ORDINARY = fc.constantFrom("ok.txt", "sub", "link", "secret.txt", "passwd");
const HOSTILE = fc.constantFrom("..", ".", "", "/etc", "a\\b", "\0");

/** One manifest line from these parts. */
function line(
  pieces: fc.Arbitrary<string>,
  size: fc.Arbitrary<number>,
  sha256: fc.Arbitrary<string>,
): fc.Arbitrary<string> {
  return fc.record({
    path: fc.array(pieces, { minLength: 1, maxLength: 4 }).map((p) => p.join("/")),
    size,
    sha256,
  }).map((fields) => {
    const { sha256: digest, ...rest } = fields;
    const entry: ManifestEntry = { ...rest, hash: "sha256", digest, mtimeMs: 0, verifiedAt: null };
    return formatManifest([entry], "sha256").split("\n")[1];
  });
}

const ordinary = line(ORDINARY, fc.constant(0), fc.constant(EMPTY_SHA256));
// Now and then one line is hostile: a path with "..", absolute, empty or NUL pieces, a bad
// size or hash, or no entry at all.
const hostile = fc.oneof(
  line(fc.oneof(ORDINARY, HOSTILE), fc.constant(0), fc.constant(EMPTY_SHA256)),
  line(ORDINARY, fc.constantFrom(-1, 1.5), fc.constant(EMPTY_SHA256)),
  line(ORDINARY, fc.constant(0), fc.constantFrom("0".repeat(63), "not a hash")),
  fc.constantFrom("{", "[]", "null", '{"path": 7}', "garbage"),
);
const manifestText = fc.tuple(
  fc.uniqueArray(ordinary, { maxLength: 4 }),
  fc.oneof({ weight: 3, arbitrary: fc.constant<string[]>([]) }, fc.tuple(hostile)),
).map(([lines, bad]) =>
  formatManifest([], "sha256") + [...lines, ...bad].map((l) => l + "\n").join("")
);

Deno.test("random manifests, hostile paths among them, are refused cleanly or checked inside the destination only", async () => {
  await using folder = await testFolder();
  const destination = path.join(folder.path, "dest");
  const outside = path.join(folder.path, "outside");
  await Deno.mkdir(path.join(destination, "sub"), { recursive: true });
  await Deno.mkdir(path.join(destination, ".fanout"));
  await Deno.mkdir(outside);
  await Deno.writeTextFile(path.join(destination, "ok.txt"), "");
  await Deno.writeTextFile(path.join(destination, "sub", "ok.txt"), "");
  await Deno.writeTextFile(path.join(outside, "secret.txt"), "");
  await Deno.symlink(outside, path.join(destination, "link"));
  await Deno.symlink(outside, path.join(destination, "sub", "link"));
  const manifest = path.join(destination, ".fanout", "manifest.ndjson");

  const seen = { refused: 0, unsafe: 0, verified: 0 };
  await fc.assert(
    fc.asyncProperty(manifestText, async (text) => {
      await Deno.writeTextFile(manifest, text);
      const events: RunEvent[] = [];
      try {
        await verifyDestination({ destination, workers: 2 }, (event) => events.push(event));
      } catch (error) {
        assert.ok(error instanceof FanoutError, `not a clean refusal: ${error}`);
        assert.match(error.message, /manifest\.ndjson line \d+: /);
        seen.refused++;
        return;
      }
      for (const event of events) {
        if (event.type !== "file") continue;
        const parts = event.path.split("/");
        // Through "link" it is either stopped there, or the way was not there to follow.
        if (parts.slice(0, -1).includes("link")) {
          assert.ok(
            event.status === "unsafe" || event.status === "missing",
            `${JSON.stringify(event.path)} was followed: ${event.status}`,
          );
        }
        assert.ok(!parts.includes("..") && !event.path.startsWith("/"), event.path);
        if (event.status === "unsafe") seen.unsafe++;
        if (event.status === "verified") seen.verified++;
      }
    }),
    { numRuns: 150 },
  );
  // The property met every kind of manifest, not only the refused ones.
  assert.ok(seen.refused > 0 && seen.unsafe > 0 && seen.verified > 0, JSON.stringify(seen));
});
