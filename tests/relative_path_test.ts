/**
 * Relative paths read from records: which ones may name a file below a root on Linux and on
 * Windows, and how they become native paths.
 */
import { assert, fc } from "./deps.ts";
import { path } from "../src/deps.ts";
import { toNative, unsafeRelativePath } from "../src/relative_path.ts";

const GOOD = [
  "a.jpg",
  "DCIM/100CANON/IMG_0001.CR3",
  "..x",
  "...",
  "a/..b/c..",
  ".hidden/.x",
  "My Trip/photo 1.jpg",
  "caf\u00e9/cafe\u0301.txt",
  "\u5199\u771f/\u6771\u4eac.jpg",
];

Deno.test("ordinary relative paths are safe on Linux and on Windows", () => {
  for (const rel of GOOD) {
    assert.equal(unsafeRelativePath(rel, "linux"), null, rel);
    assert.equal(unsafeRelativePath(rel, "windows"), null, rel);
  }
});

Deno.test("on both systems: empty, NUL, absolute, empty segments, . and .. are refused", () => {
  const bad: [string, RegExp][] = [
    ["", /empty/],
    ["a\0b", /NUL/],
    ["/etc/passwd", /absolute/],
    ["a//b", /empty segment/],
    ["a/", /empty segment/],
    [".", /"\." segment/],
    ["./a", /"\." segment/],
    ["..", /"\.\." segment/],
    ["../a", /"\.\." segment/],
    ["a/../../b", /"\.\." segment/],
    ["a/..", /"\.\." segment/],
  ];
  for (const os of ["linux", "windows"] as const) {
    for (const [rel, reason] of bad) {
      const why = unsafeRelativePath(rel, os);
      assert.ok(why !== null, `${JSON.stringify(rel)} on ${os}`);
      assert.match(why, reason, `${JSON.stringify(rel)} on ${os}`);
    }
  }
});

Deno.test("on Windows, drive paths, \\ and : are refused; on Linux they are plain names", () => {
  const windowsOnly: [string, RegExp][] = [
    ["C:/Windows/system.ini", /absolute/],
    ["C:\\Windows", /absolute/],
    ["\\\\server\\share\\x", /absolute/],
    ["\\Windows", /absolute/],
    ["C:relative", /\\ or :/],
    ["a\\..\\..\\b", /\\ or :/],
    ["photo:stream.jpg", /\\ or :/],
  ];
  for (const [rel, reason] of windowsOnly) {
    const why = unsafeRelativePath(rel, "windows");
    assert.ok(why !== null, JSON.stringify(rel));
    assert.match(why, reason, JSON.stringify(rel));
    assert.equal(unsafeRelativePath(rel, "linux"), null, `${JSON.stringify(rel)} on Linux`);
  }
});

Deno.test({
  name: "toNative joins the segments below the root, and the empty path is the root",
  ignore: Deno.build.os === "windows",
  fn: () => {
    assert.equal(toNative("/ssd/card", "DCIM/IMG_0001.CR3"), "/ssd/card/DCIM/IMG_0001.CR3");
    assert.equal(toNative("/ssd/card/", "a.jpg"), "/ssd/card/a.jpg");
    assert.equal(toNative("/ssd/card", ""), "/ssd/card");
    assert.equal(toNative("/ssd/card", "My Trip/caf\u00e9.txt"), "/ssd/card/My Trip/caf\u00e9.txt");
  },
});

Deno.test({
  name: "toNative gives what path.join gives, for any root and any path",
  ignore: Deno.build.os === "windows",
  fn: () => {
    const name = fc.oneof(
      fc.constantFrom("", ".", "..", "...", ".a", "a.", "\\", " "),
      fc.string({ unit: "binary", minLength: 1, maxLength: 6 }).filter((s) => !s.includes("/")),
    );
    // The empty path is the root as it is given (above).
    const names = fc.array(name, { minLength: 1, maxLength: 4 }).map((parts) => parts.join("/"))
      .filter((rel) => rel !== "");
    const root = fc.oneof(
      fc.constantFrom("/", "/ssd", "/ssd/", "/ssd//card", "/ssd/./card", "/ssd/x/../card", "card"),
      names.map((rel) => `/${rel}`),
    );
    fc.assert(fc.property(root, names, (root, rel) => {
      // Twice: the root's check is kept for the next calls.
      for (let i = 0; i < 2; i++) {
        assert.equal(toNative(root, rel), path.join(root, ...rel.split("/")), `${root} + ${rel}`);
      }
    }));
  },
});

Deno.test({
  name: "toNative uses \\ on Windows",
  ignore: Deno.build.os !== "windows",
  fn: () => {
    assert.equal(toNative("D:\\card", "DCIM/IMG_0001.CR3"), "D:\\card\\DCIM\\IMG_0001.CR3");
    assert.equal(toNative("D:\\card", ""), "D:\\card");
  },
});

Deno.test("a path judged safe for this system always lands strictly below the root", () => {
  const root = path.resolve("/ssd", "card");
  const piece = fc.oneof(
    fc.constantFrom("/", ".", "..", "\\", ":", "C:", "\0", "a", " "),
    fc.string({ unit: "binary", maxLength: 4 }),
  );
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 10 }).map((parts) => parts.join("")), (rel) => {
      if (unsafeRelativePath(rel) !== null) return;
      const relative = path.relative(root, toNative(root, rel));
      assert.ok(
        relative !== "" && relative !== ".." && !relative.startsWith(`..${path.sep}`) &&
          !path.isAbsolute(relative),
        `${JSON.stringify(rel)} became ${JSON.stringify(relative)}`,
      );
    }),
    { numRuns: 2000 },
  );
});
