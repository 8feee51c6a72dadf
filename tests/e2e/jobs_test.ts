/**
 * Named jobs, filters, schedules, pings and completions through the real CLI: a job from a
 * TOML file backed up and judged by diff and sha256sum -c; bad config files refused with
 * the key and line named; `schedule` for each platform; pings received by a loopback HTTP
 * server in order; `completions` accepted by bash.
 */
import { assert } from "../deps.ts";
import { path } from "../../src/deps.ts";
import {
  events,
  FANOUT_PERMISSIONS,
  runFanout,
  sh,
  testFolder,
  writeRandomFile,
} from "../helpers.ts";

/** A small card: raw files, JPEGs, sidecars, a video, and a trash folder cameras leave. */
async function mixedCard(root: string): Promise<void> {
  const files: [string, number][] = [
    ["DCIM/100CANON/IMG_0001.CR3", 70_000],
    ["DCIM/100CANON/IMG_0001.JPG", 20_000],
    ["DCIM/100CANON/IMG_0001.xmp", 900],
    ["DCIM/100CANON/IMG_0002.cr3", 60_000],
    ["DCIM/101CANON/MVI_0003.MP4", 90_000],
    ["DCIM/101CANON/MVI_0003.THM", 4_000],
    ["MISC/readme.txt", 10],
    [".Trashes/501/IMG_0000.CR3", 5_000],
  ];
  for (const [rel, size] of files) await writeRandomFile(path.join(root, rel), size);
}

/** Every file below `root` (not .fanout), relative and sorted. */
async function filesBelow(root: string): Promise<string[]> {
  const found = await sh("find", [
    ".",
    "-path",
    "./.fanout",
    "-prune",
    "-o",
    "-type",
    "f",
    "-print",
  ], {
    cwd: root,
  });
  return found.stdout.trim().split("\n").filter(Boolean).map((f) => f.slice(2)).sort();
}

async function sumsHold(destination: string): Promise<void> {
  const check = await sh("sha256sum", ["--check", "--strict", ".fanout/SHA256SUMS"], {
    cwd: destination,
  });
  assert.equal(check.code, 0, check.stdout + check.stderr);
}

Deno.test("fanout run JOB backs up the job of a TOML file: its destinations, filters and limits", async () => {
  await using folder = await testFolder();
  await mixedCard(path.join(folder.path, "card"));
  const config = path.join(folder.path, "fanout.toml");
  await Deno.writeTextFile(
    config,
    `# relative paths are read from this file's folder
[jobs.card]
source = "card"
destinations = ["ssd", { path = "nas", limit = "2M", workers = 1 }]
exclude = [".Trashes"]
only = ["raw", "sidecars"]
priority = { "*.xmp" = "high" }
`,
  );
  // From another folder, as cron runs it (in $HOME).
  const run = await runFanout(["run", "card", "--config", config, "--json"], { cwd: "/" });
  assert.equal(run.code, 0, run.stderr);
  const all = events(run);
  const analyzed = all.find((e) =>
    e.type === "phase" && e.phase === "analyze" && e.state === "end"
  );
  assert.deepEqual([analyzed.files, analyzed.excluded], [4, 4]);
  const expected = [
    "DCIM/100CANON/IMG_0001.CR3",
    "DCIM/100CANON/IMG_0001.xmp",
    "DCIM/100CANON/IMG_0002.cr3",
    "DCIM/101CANON/MVI_0003.THM",
  ];
  for (const name of ["ssd", "nas"]) {
    const destination = path.join(folder.path, name);
    assert.deepEqual(await filesBelow(destination), expected, name);
    await sumsHold(destination);
    for (const rel of expected) {
      const same = await sh("cmp", [
        path.join(folder.path, "card", rel),
        path.join(destination, rel),
      ]);
      assert.equal(same.code, 0, same.stderr);
    }
  }
  assert.ok(!await Deno.stat(path.join(folder.path, "ssd", "MISC")).then(() => true, () => false));
  // The nas's one slot: its files finish in order, the high-priority sidecar first.
  const nasFiles = all.filter((e) => e.type === "file" && e.destination.endsWith("nas"));
  assert.equal(nasFiles[0].path, "DCIM/100CANON/IMG_0001.xmp");
  const workers = all.filter((e) => e.type === "workers" && e.destination.endsWith("nas"));
  assert.ok(workers.every((e) => e.slots === 1), JSON.stringify(workers));
});

Deno.test("backup --exclude, --include and --only take what they say, and exclude wins", async () => {
  await using folder = await testFolder();
  const source = path.join(folder.path, "card");
  await mixedCard(source);
  const cases: [string[], string[]][] = [
    [["--exclude", ".Trashes", "--exclude", "*.jpg"], [
      "DCIM/100CANON/IMG_0001.CR3",
      "DCIM/100CANON/IMG_0001.xmp",
      "DCIM/100CANON/IMG_0002.cr3",
      "DCIM/101CANON/MVI_0003.MP4",
      "DCIM/101CANON/MVI_0003.THM",
      "MISC/readme.txt",
    ]],
    [["--only", "video", "--include", "MISC/*"], [
      "DCIM/101CANON/MVI_0003.MP4",
      "MISC/readme.txt",
    ]],
    [["--only", "photos", "--exclude", ".Trashes"], [
      "DCIM/100CANON/IMG_0001.CR3",
      "DCIM/100CANON/IMG_0001.JPG",
      "DCIM/100CANON/IMG_0002.cr3",
    ]],
    [["--include", "DCIM/100CANON/**", "--exclude", "*.CR3"], [
      "DCIM/100CANON/IMG_0001.JPG",
      "DCIM/100CANON/IMG_0001.xmp",
    ]],
  ];
  for (const [i, [flags, expected]] of cases.entries()) {
    const destination = path.join(folder.path, `dest-${i}`);
    const run = await runFanout(["backup", "-q", ...flags, source, destination]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(await filesBelow(destination), expected, flags.join(" "));
    await sumsHold(destination);
  }
  const bad = await runFanout(["backup", "--only", "raws", source, path.join(folder.path, "x")]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^fanout: .*--only.*raws.*raw, photos, video, sidecars/);
  assert.equal(bad.stderr.trim().split("\n").length, 1, bad.stderr);
});

Deno.test("a bad config file is refused in one line naming the file, line and key; exit 2, nothing written", async () => {
  await using folder = await testFolder();
  await mixedCard(path.join(folder.path, "card"));
  const config = path.join(folder.path, "fanout.toml");
  const cases: [string, RegExp][] = [
    [
      `[jobs.card]\nsource = "card"\ndestinations = ["ssd"]\nlimt = "2M"\n`,
      /fanout\.toml:4: jobs\.card\.limt: unknown key/,
    ],
    [
      `[jobs.card]\nsource = "card"\ndestinations = "ssd"\n`,
      /fanout\.toml:3: jobs\.card\.destinations: expected an array/,
    ],
    [`[jobs.card]\ndestinations = ["ssd"]\n`, /fanout\.toml:1: jobs\.card\.source: .*missing/],
    [
      `[jobs.card]\nsource = "card"\ndestinations = ["ssd", { path = "nas", limit = "fast" }]\n`,
      /fanout\.toml:3: jobs\.card\.destinations\[1\]\.limit: expected a rate/,
    ],
    [`[jobs.card\nsource = "card"\n`, /fanout\.toml:1: not valid TOML/],
  ];
  for (const [text, expected] of cases) {
    await Deno.writeTextFile(config, text);
    const run = await runFanout(["run", "card", "--config", config]);
    assert.equal(run.code, 2, `${text}\n${run.stderr}`);
    assert.match(run.stderr, expected);
    assert.equal(run.stderr.trim().split("\n").length, 1, run.stderr);
    assert.doesNotMatch(run.stderr, /\bat .*\.ts:\d+/, "no stack trace");
    assert.ok(!await Deno.stat(path.join(folder.path, "ssd")).then(() => true, () => false));
  }
  const missing = await runFanout(["run", "card", "--config", path.join(folder.path, "none.toml")]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /none\.toml: no config file there/);
  await Deno.writeTextFile(config, `[jobs.card]\nsource = "card"\ndestinations = ["ssd"]\n`);
  const unknown = await runFanout(["run", "cards", "--config", config]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /jobs\.cards: no such job; the jobs are: card/);
});

Deno.test("the default config file is found from XDG_CONFIG_HOME", async () => {
  await using folder = await testFolder();
  await mixedCard(path.join(folder.path, "card"));
  const home = path.join(folder.path, "config");
  await Deno.mkdir(path.join(home, "fanout"), { recursive: true });
  await Deno.writeTextFile(
    path.join(home, "fanout", "fanout.toml"),
    `[jobs.card]\nsource = "${folder.path}/card"\ndestinations = ["${folder.path}/ssd"]\n`,
  );
  const run = await runFanout(["run", "card", "-q"], { env: { XDG_CONFIG_HOME: home } });
  assert.equal(run.code, 0, run.stderr);
  await sumsHold(path.join(folder.path, "ssd"));
});

Deno.test("schedule prints a crontab line for Linux and macOS and a schtasks command for Windows", async () => {
  await using folder = await testFolder();
  await mixedCard(path.join(folder.path, "card"));
  const config = path.join(folder.path, "fanout.toml");
  await Deno.writeTextFile(
    config,
    `[jobs.card]\nsource = "card"\ndestinations = ["ssd"]\nping = "http://127.0.0.1:9/check"\n`,
  );
  const env = {
    HOME: "/home/ana",
    XDG_STATE_HOME: "/home/ana/.local/state",
    LOCALAPPDATA: "C:\\Users\\ana\\AppData\\Local",
  };
  const schedule = (...args: string[]) =>
    runFanout(["schedule", "card", "--config", config, ...args], { env });

  const linux = await schedule("--at", "2:30", "--platform", "linux");
  assert.equal(linux.code, 0, linux.stderr);
  const cron = linux.stdout.trim().split("\n").filter((line) => !line.startsWith("#"));
  assert.equal(cron.length, 1, linux.stdout);
  assert.match(cron[0], /^30 2 \* \* \* mkdir -p \/home\/ana\/\.local\/state\/fanout && /);
  assert.match(
    cron[0],
    / --allow-net=127\.0\.0\.1:9 \S+main\.ts run card --config \S+fanout\.toml --quiet >> \/home\/ana\/\.local\/state\/fanout\/card\.log 2>&1$/,
  );
  assert.ok(cron[0].startsWith(`30 2 * * * mkdir -p`));
  // What cron would run is a valid sh command line.
  assert.equal((await sh("sh", ["-n", "-c", cron[0].split(" ").slice(5).join(" ")])).code, 0);

  const mac = await schedule("--at", "23:05", "--every", "week", "--platform", "darwin");
  assert.equal(mac.code, 0, mac.stderr);
  assert.match(mac.stdout, /^5 23 \* \* 0 mkdir -p \/home\/ana\/Library\/Logs\/fanout && /m);

  const hourly = await schedule("--at", "0:15", "--every", "hour", "--platform", "linux");
  assert.match(hourly.stdout, /^15 \* \* \* \* /m);

  const windows = await schedule("--at", "02:30", "--platform", "windows");
  assert.equal(windows.code, 0, windows.stderr);
  assert.match(
    windows.stdout,
    /^schtasks \/Create \/TN "fanout card" \/SC DAILY \/ST 02:30 \/F \/TR /m,
  );
  assert.match(windows.stdout, /C:\\Users\\ana\\AppData\\Local\\fanout\\logs/);

  const bad = await schedule("--at", "24:00");
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^fanout: .*--at.*24:00/);
  const noJob = await runFanout(["schedule", "cards", "--config", config, "--at", "2:30"], { env });
  assert.equal(noJob.code, 2);
  assert.match(noJob.stderr, /no such job/);
});

/** A loopback server that records the path of every request, answering 200. */
function pingServer() {
  const paths: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    paths.push(new URL(req.url).pathname);
    return new Response("OK");
  });
  return { server, paths, url: `http://127.0.0.1:${server.addr.port}/ping/abc` };
}

Deno.test("--ping sends start then success for a good run, and start then fail for a failed one", async () => {
  await using folder = await testFolder();
  const source = path.join(folder.path, "card");
  await mixedCard(source);
  const { server, paths, url } = pingServer();
  const net = `--allow-net=127.0.0.1:${server.addr.port}`;
  const permissions = [...FANOUT_PERMISSIONS, net];
  try {
    const good = await runFanout([
      "backup",
      "-q",
      "--ping",
      url,
      source,
      path.join(folder.path, "ssd"),
    ], {
      permissions,
    });
    assert.equal(good.code, 0, good.stderr);
    assert.deepEqual(paths, ["/ping/abc/start", "/ping/abc"]);

    paths.length = 0;
    // The card is not in the reader: the run fails before it copies anything.
    const gone = path.join(folder.path, "no-card");
    const bad = await runFanout([
      "backup",
      "-q",
      "--ping",
      url,
      gone,
      path.join(folder.path, "ssd"),
    ], {
      permissions,
    });
    assert.equal(bad.code, 2, bad.stderr);
    assert.deepEqual(paths, ["/ping/abc/start", "/ping/abc/fail"]);

    // A job's ping, through `run`.
    paths.length = 0;
    const config = path.join(folder.path, "fanout.toml");
    await Deno.writeTextFile(
      config,
      `[jobs.card]\nsource = "card"\ndestinations = ["usb"]\nping = "${url}"\n`,
    );
    const job = await runFanout(["run", "card", "-q", "--config", config], {
      permissions,
    });
    assert.equal(job.code, 0, job.stderr);
    assert.deepEqual(paths, ["/ping/abc/start", "/ping/abc"]);
  } finally {
    await server.shutdown();
  }
});

Deno.test("a ping that cannot be sent is a warning, never a failed backup", async () => {
  await using folder = await testFolder();
  const source = path.join(folder.path, "card");
  await mixedCard(source);
  // Nothing listens on port 9 of loopback (discard), so the connection is refused.
  const url = "http://127.0.0.1:9/ping";
  const refused = await runFanout([
    "backup",
    "--json",
    "--ping",
    url,
    source,
    path.join(folder.path, "a"),
  ], {
    permissions: [...FANOUT_PERMISSIONS, "--allow-net=127.0.0.1:9"],
  });
  assert.equal(refused.code, 0, refused.stderr);
  const warnings = events(refused).filter((e) => e.type === "warning").map((e) => e.message);
  assert.ok(
    warnings.some((m) =>
      /--ping: http:\/\/127\.0\.0\.1:9\/ping\/start could not be reached/.test(m)
    ),
    warnings.join("\n"),
  );
  // Without --allow-net for the host, it says which flag to add, and the backup still runs.
  const denied = await runFanout([
    "backup",
    "--json",
    "--ping",
    url,
    source,
    path.join(folder.path, "b"),
  ]);
  assert.equal(denied.code, 0, denied.stderr);
  assert.ok(
    events(denied).some((e) =>
      e.type === "warning" && /--allow-net=127\.0\.0\.1:9/.test(e.message)
    ),
  );
  const bad = await runFanout([
    "backup",
    "--ping",
    "ftp://x/y",
    source,
    path.join(folder.path, "c"),
  ]);
  assert.equal(bad.code, 2);
  assert.match(
    bad.stderr,
    /^fanout: --ping ftp:\/\/x\/y: only http:\/\/ and https:\/\/ URLs can be pinged\n$/,
  );
});

Deno.test("completions bash prints a script bash accepts, which completes commands and options", async () => {
  const run = await runFanout(["completions", "bash"]);
  assert.equal(run.code, 0, run.stderr);
  await using folder = await testFolder();
  const script = path.join(folder.path, "fanout.bash");
  await Deno.writeTextFile(script, run.stdout);
  assert.equal((await sh("bash", ["-n", script])).code, 0);
  const complete = async (...words: string[]) => {
    const probe = await sh("bash", [
      "-c",
      `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=\${#COMP_LINE}; f=$(complete -p fanout | sed -E 's/.* -F ([^ ]+) .*/\\1/'); "$f" fanout "\${COMP_WORDS[COMP_CWORD]}" "\${COMP_WORDS[COMP_CWORD-1]}"; printf '%s\\n' "\${COMPREPLY[@]}"`,
      "_",
      script,
      ...words,
    ]);
    assert.equal(probe.code, 0, probe.stderr);
    return probe.stdout.trim().split("\n");
  };
  const commands = await complete("fanout", "");
  for (const name of ["backup", "verify", "run", "schedule", "completions"]) {
    assert.ok(commands.includes(name), commands.join(" "));
  }
  const options = await complete("fanout", "backup", "--on");
  assert.deepEqual(options, ["--only"]);
  const presets = await complete("fanout", "backup", "--only", "");
  assert.deepEqual(presets.sort(), ["photos", "raw", "sidecars", "video"]);
  const bad = await runFanout(["completions", "tcsh"]);
  assert.equal(bad.code, 2);
});
