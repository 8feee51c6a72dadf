/**
 * The --json renderer: one object per line, progress at most once a second per destination,
 * the file events of one task in one write.
 */
import { assert } from "../deps.ts";
import { eventLine, type FileEvent, type ProgressEvent } from "../../src/coordinator/events.ts";
import { jsonRenderer } from "../../src/ui/json.ts";

function progress(
  destination: string,
  bytesDone: number,
  phase: "copy" | "verify" = "copy",
  state: ProgressEvent["state"] = "running",
): ProgressEvent {
  return {
    type: "progress",
    destination,
    state,
    phase,
    filesDone: 0,
    filesTotal: 1,
    bytesDone,
    bytesTotal: 100,
    bytesPerSecond: 1,
    etaSeconds: null,
    workers: 1,
    retries: 0,
    failures: 0,
  };
}

Deno.test("progress is thinned to one a second per destination, but phase changes, 100% and the end always print", () => {
  let now = 0;
  const lines: string[] = [];
  const emit = jsonRenderer((text) => lines.push(text), () => now);
  emit(progress("/a", 10));
  emit(progress("/b", 10));
  now = 250;
  emit(progress("/a", 20));
  now = 500;
  emit(progress("/a", 30, "verify"));
  now = 750;
  emit(progress("/a", 100, "verify"));
  now = 800;
  emit(progress("/a", 100, "verify"));
  now = 1800;
  emit(progress("/a", 100, "verify"));
  now = 1900;
  emit(progress("/a", 100, "verify", "ok"));
  emit({ type: "warning", message: "never thinned" });
  const printed = lines.map((line) => JSON.parse(line));
  assert.ok(lines.every((line) => line.endsWith("\n") && !line.slice(0, -1).includes("\n")));
  assert.deepEqual(
    printed.map((e) =>
      e.type === "progress" ? `${e.destination}:${e.bytesDone}@${e.phase}` : e.type
    ),
    [
      "/a:10@copy",
      "/b:10@copy",
      "/a:30@verify",
      "/a:100@verify",
      "/a:100@verify",
      "/a:100@verify",
      "warning",
    ],
  );
});

function file(n: number, path = `DCIM/f${n}.jpg`): FileEvent {
  return { type: "file", destination: "/a", path, size: n, status: "verified", attempts: 1 };
}

/** The end of the task that is running, and of its microtasks. */
const taskEnd = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("the file events of one task go out in one write at its end, and before any other event", async () => {
  const writes: string[] = [];
  const emit = jsonRenderer((text) => writes.push(text));
  for (let n = 0; n < 3; n++) emit(file(n));
  assert.equal(writes.length, 0, "nothing yet: the task is not over");
  await taskEnd();
  assert.equal(writes.length, 1);
  emit(file(3));
  emit(file(4));
  emit({ type: "warning", message: "after two files" });
  assert.equal(writes.length, 3, "the files waiting, then the warning");
  await taskEnd();
  assert.equal(writes.length, 3, "nothing left to write");
  const lines = writes.join("").split("\n");
  assert.equal(lines.pop(), "");
  assert.deepEqual(
    lines.map((line) => JSON.parse(line)).map((e) => e.path ?? e.type),
    ["DCIM/f0.jpg", "DCIM/f1.jpg", "DCIM/f2.jpg", "DCIM/f3.jpg", "DCIM/f4.jpg", "warning"],
  );
});

Deno.test("a long burst of file events is written in blocks of about 64 KiB, whole lines each", async () => {
  const writes: string[] = [];
  const emit = jsonRenderer((text) => writes.push(text));
  for (let n = 0; n < 2000; n++) emit(file(n, `DCIM/${"long name ".repeat(10)}${n}.jpg`));
  await taskEnd();
  assert.ok(writes.length >= 3, `${writes.length} writes`);
  for (const text of writes) {
    assert.ok(text.endsWith("\n"));
    assert.ok(text.length < 64 * 1024 + 1000, `${text.length} characters in one write`);
  }
  const sizes = writes.join("").trimEnd().split("\n").map((line) => JSON.parse(line).size);
  assert.deepEqual(sizes, Array.from({ length: 2000 }, (_, n) => n));
});

Deno.test("an event's line is its JSON, the same for each sink it goes to, and another event's its own", () => {
  const one: FileEvent = { type: "file", destination: "/a", path: "x", size: 1, status: "copied" };
  const other: FileEvent = { ...one, destination: "/b" };
  const line = eventLine(one);
  assert.equal(line, JSON.stringify(one) + "\n");
  assert.equal(eventLine(other), JSON.stringify(other) + "\n", "another event, another line");
  assert.equal(eventLine(one), line);
});
