/** Named jobs from fanout.toml: what a job reads as, and every refusal with its line and key. */
import { assert, fc } from "../deps.ts";
import { path } from "../../src/deps.ts";
import {
  type Config,
  ConfigError,
  defaultConfigPath,
  findJob,
  type Job,
  type JobDestination,
  loadConfig,
  parseConfig,
} from "../../src/config/jobs.ts";
import { UsageError } from "../../src/errors.ts";
import { PRESET_NAMES } from "../../src/coordinator/filter.ts";
import { ORDERS, PRIORITIES } from "../../src/queue/file_task.ts";
import { HASH_ALGORITHMS } from "../../src/verify/hashers.ts";
import { testFolder } from "../helpers.ts";

const FILE = "/home/ana/.config/fanout/fanout.toml";
const HOME = "/home/ana";

function parse(text: string): Config {
  return parseConfig(text, FILE, HOME);
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

/**
 * The one-line ConfigError for `keyPath` at `line` of FILE (no line: null), its problem
 * matching `problem`. assert.throws matches it against "ConfigError: message".
 */
function refusal(line: number | null, keyPath: string, problem: RegExp): RegExp {
  const where = line === null ? FILE : `${FILE}:${line}`;
  return new RegExp(`^ConfigError: ${escape(`${where}: ${keyPath}: `)}${problem.source}[^\\n]*$`);
}

/** The smallest valid job, three lines long; a key added after it is on line 4. */
const CARD = `[jobs.card]
source = "/media/card"
destinations = ["/mnt/ssd/card"]
`;

const EXAMPLE = `# ~/.config/fanout/fanout.toml
[jobs.card]
source = "/media/card"                          # required
destinations = [                                 # required, at least one
  "/mnt/ssd/card",
  { path = "/mnt/nas/card", limit = "20MiB/s", workers = 2 },
]
exclude = [".Trashes", "*.tmp"]                  # optional, globs
include = ["DCIM/**"]                            # optional, globs
only = ["raw", "video"]                          # optional, presets
priority = { "*.CR3" = "high", "*.MP4" = "low" } # optional, glob = level
hash = "xxh128"
ping = "https://hc-ping.com/your-uuid"
workers = "auto"
bwlimit = "50M"
retries = 3
verify = true
order = "small-first"
links = false

[jobs.usb]
source = "~/Pictures"
destinations = ["backup", "../usb", "~", '~\\Documents', "/mnt/usb/"]
`;

/** What a job is when its file says only source and destinations. */
function bareJob(name: string, source: string, destinations: string[]): Job {
  return {
    name,
    file: FILE,
    source,
    destinations: destinations.map((path) => ({ path, limit: null, workers: null })),
    exclude: [],
    include: [],
    only: [],
    priorities: [],
    hash: "sha256",
    ping: null,
    workers: null,
    bwlimit: null,
    retries: null,
    verify: null,
    order: null,
    links: null,
  };
}

Deno.test("the example config reads into jobs with every value checked and converted", () => {
  const config = parse(EXAMPLE);
  assert.equal(config.file, FILE);
  assert.deepEqual([...config.jobs.keys()], ["card", "usb"]);
  assert.deepEqual(config.jobs.get("card"), {
    ...bareJob("card", "/media/card", []),
    destinations: [
      { path: "/mnt/ssd/card", limit: null, workers: null },
      { path: "/mnt/nas/card", limit: 20 * 2 ** 20, workers: 2 },
    ],
    exclude: [".Trashes", "*.tmp"],
    include: ["DCIM/**"],
    only: ["raw", "video"],
    priorities: [{ pattern: "*.CR3", priority: "high" }, { pattern: "*.MP4", priority: "low" }],
    hash: "xxh128",
    ping: "https://hc-ping.com/your-uuid",
    workers: "auto",
    bwlimit: 50 * 2 ** 20,
    retries: 3,
    verify: true,
    order: "small-first",
    links: false,
  });
});

Deno.test("~ is the home folder and a relative path is relative to the config's folder", () => {
  assert.deepEqual(
    parse(EXAMPLE).jobs.get("usb"),
    bareJob("usb", "/home/ana/Pictures", [
      "/home/ana/.config/fanout/backup",
      "/home/ana/.config/usb",
      "/home/ana",
      "/home/ana/Documents",
      "/mnt/usb",
    ]),
  );
  const relative = parseConfig(CARD.replace('"/media/card"', '"card"'), "conf/fanout.toml", HOME);
  assert.equal(relative.file, path.resolve("conf/fanout.toml"));
  assert.equal(relative.jobs.get("card")!.source, path.resolve("conf/card"));
});

Deno.test("a bare rate is bytes per second, a single preset needs no array, dotted keys work", () => {
  const config = parse(`[jobs]
card.source = "/media/card"
card.destinations = [{ path = "/mnt/nas/card", limit = 800000, workers = "auto" }]
card.bwlimit = 1024
card.only = "photos"
`);
  const job = config.jobs.get("card")!;
  assert.deepEqual(job.destinations, [{ path: "/mnt/nas/card", limit: 800_000, workers: "auto" }]);
  assert.equal(job.bwlimit, 1024);
  assert.deepEqual(job.only, ["photos"]);
});

Deno.test("a refusal is a usage error: one line, exit code 2", () => {
  assert.throws(() => parse(""), (error) => {
    assert.ok(error instanceof ConfigError && error instanceof UsageError);
    assert.equal(error.exitCode, 2);
    return true;
  });
});

Deno.test("text that is not TOML is refused with the line smol-toml found", () => {
  assert.throws(
    () => parse(`[jobs.card]\nsource = "/media/card\ndestinations = ["/mnt/ssd/card"]\n`),
    new RegExp(`^ConfigError: ${escape(FILE)}:2: not valid TOML: [^\\n]+$`),
  );
  assert.throws(
    () => parse(`${CARD}source = "/again"\n`),
    new RegExp(`^ConfigError: ${escape(FILE)}:4: not valid TOML: [^\\n]+$`),
  );
});

Deno.test("an unknown key is named with its path and the keys known there", () => {
  assert.throws(
    () => parse(`${CARD}limt = "20M"\n`),
    refusal(
      4,
      "jobs.card.limt",
      /unknown key 'limt'; known keys: source, destinations, exclude, include, only, priority, hash, ping, workers, bwlimit, retries, verify, order, links$/,
    ),
  );
  assert.throws(
    () => parse(`source = "/media/card"\n${CARD}`),
    refusal(1, "source", /unknown key 'source'; known keys: jobs /),
  );
  assert.throws(
    () => parse(`${CARD}[jobs.card.priority]\n"*.CR3" = "high"\n\n[other]\nkey = 1\n`),
    refusal(7, "other", /unknown key 'other'; known keys: jobs /),
  );
});

Deno.test("an unknown key in a destination's inline table is named by its index", () => {
  const text = `[jobs.card]
source = "/media/card"
destinations = [
  "/mnt/ssd/card",
  { path = "/mnt/nas/card", limt = "20MiB/s" },
]
`;
  assert.throws(
    () => parse(text),
    refusal(
      5,
      "jobs.card.destinations[1].limt",
      /unknown key 'limt'; known keys: path, limit, workers$/,
    ),
  );
});

Deno.test("a value of the wrong type says what was expected and what was found", () => {
  const cases: [string, number, string, RegExp][] = [
    [
      '[jobs.card]\nsource = 5\ndestinations = ["/x"]\n',
      2,
      "jobs.card.source",
      /expected a path, got an integer$/,
    ],
    [`${CARD}verify = "yes"\n`, 4, "jobs.card.verify", /expected true or false, got a string$/],
    [`${CARD}links = 1\n`, 4, "jobs.card.links", /expected true or false, got an integer$/],
    [`${CARD}exclude = "*.tmp"\n`, 4, "jobs.card.exclude", /expected an array of globs/],
    [
      `${CARD}include = ["DCIM/**", 3]\n`,
      4,
      "jobs.card.include[1]",
      /expected a glob, got an integer$/,
    ],
    [
      `${CARD}priority = ["*.CR3=high"]\n`,
      4,
      "jobs.card.priority",
      /expected a table of glob = level/,
    ],
    [
      `${CARD}bwlimit = 1.5\n`,
      4,
      "jobs.card.bwlimit",
      /expected a rate such as "24MiB\/s", "24M" or "500K", got a float$/,
    ],
    [
      `${CARD}retries = "3"\n`,
      4,
      "jobs.card.retries",
      /expected a whole number from 0 to 100, got a string$/,
    ],
    [
      `${CARD}workers = true\n`,
      4,
      "jobs.card.workers",
      /expected "auto" or a whole number from 1 to 64, got a boolean$/,
    ],
    [
      `${CARD}ping = 1979-05-27\n`,
      4,
      "jobs.card.ping",
      /expected an http:\/\/ or https:\/\/ URL, got a date$/,
    ],
    [
      '[jobs.card]\nsource = "/a"\ndestinations = [["/b"]]\n',
      3,
      "jobs.card.destinations[0]",
      /expected a folder or a table/,
    ],
    ["jobs = 3\n", 1, "jobs", /expected a table of jobs such as \[jobs\.card\], got an integer$/],
    [
      '[jobs]\ncard = "/media/card"\n',
      2,
      "jobs.card",
      /expected a table such as \[jobs\.card\], got a string$/,
    ],
  ];
  for (const [text, line, keyPath, problem] of cases) {
    assert.throws(() => parse(text), refusal(line, keyPath, problem), text);
  }
});

Deno.test("a job without source or destinations is refused at its table", () => {
  assert.throws(
    () => parse('# jobs\n\n[jobs.card]\ndestinations = ["/mnt/ssd/card"]\n'),
    refusal(
      3,
      "jobs.card.source",
      /missing; give the folder to back up, e.g. source = "\/media\/card"$/,
    ),
  );
  assert.throws(
    () => parse('[jobs.card]\nsource = "/media/card"\n'),
    refusal(1, "jobs.card.destinations", /missing; give the folders to back up into/),
  );
  assert.throws(
    () => parse('[jobs.card]\nsource = "/media/card"\ndestinations = []\n'),
    refusal(3, "jobs.card.destinations", /empty; give at least one folder to back up into$/),
  );
  assert.throws(
    () => parse('[jobs.card]\nsource = "/a"\ndestinations = [\n  "/b",\n  { limit = "1M" },\n]\n'),
    refusal(5, "jobs.card.destinations[1].path", /missing; give the folder to back up into/),
  );
  assert.throws(
    () => parse('[jobs.card]\nsource = ""\ndestinations = ["/b"]\n'),
    refusal(2, "jobs.card.source", /expected a path, got an empty string$/),
  );
});

Deno.test("a bad rate is refused with the option parser's message", () => {
  const text = `[jobs.card]
source = "/media/card"
destinations = [
  "/mnt/ssd/card",
  { path = "/mnt/nas/card", limit = "fast", workers = 2 },
]
`;
  assert.throws(
    () => parse(text),
    refusal(
      5,
      "jobs.card.destinations[1].limit",
      /expected a rate in bytes per second such as 24MiB\/s, 24M or 500K, at least 1 byte, got "fast"$/,
    ),
  );
  assert.throws(
    () => parse(`${CARD}bwlimit = 0\n`),
    refusal(4, "jobs.card.bwlimit", /expected a rate .*, at least 1 byte, got 0$/),
  );
});

Deno.test("a bad priority level, preset, hash, order or ping is refused with the choices", () => {
  const cases: [string, number, string, RegExp][] = [
    [
      `${CARD}priority = { "*.CR3" = "high", "*.MP4" = "urgent" }\n`,
      4,
      'jobs.card.priority."*.MP4"',
      /expected one of low, normal, high, critical, got "urgent"$/,
    ],
    [
      `${CARD}\n[jobs.card.priority]\n"*.CR3" = "high"\n"*.MP4" = "HIGH"\n`,
      7,
      'jobs.card.priority."*.MP4"',
      /expected one of low, normal, high, critical, got "HIGH"$/,
    ],
    [
      `${CARD}only = ["raw", "movies"]\n`,
      4,
      "jobs.card.only[1]",
      /expected one of raw, photos, video, sidecars, got "movies"$/,
    ],
    [`${CARD}only = "movies"\n`, 4, "jobs.card.only", /expected one of raw, photos/],
    [
      `${CARD}hash = "md5"\n`,
      4,
      "jobs.card.hash",
      /expected one of sha256, xxh128, blake3, got "md5"$/,
    ],
    [
      `${CARD}order = "random"\n`,
      4,
      "jobs.card.order",
      /expected one of small-first, large-first, path, got "random"$/,
    ],
    [
      `${CARD}ping = "ftp://example.com/x"\n`,
      4,
      "jobs.card.ping",
      /expected an http:\/\/ or https:\/\/ URL/,
    ],
    [
      `${CARD}ping = "hc-ping.com/uuid"\n`,
      4,
      "jobs.card.ping",
      /expected an http:\/\/ or https:\/\/ URL/,
    ],
  ];
  for (const [text, line, keyPath, problem] of cases) {
    assert.throws(() => parse(text), refusal(line, keyPath, problem), text);
  }
});

Deno.test("workers and retries are refused outside their range", () => {
  const cases: [string, string, RegExp][] = [
    ["workers = 0", "jobs.card.workers", /expected "auto" or a whole number from 1 to 64, got 0$/],
    [
      "workers = 65",
      "jobs.card.workers",
      /expected "auto" or a whole number from 1 to 64, got 65$/,
    ],
    ['workers = "many"', "jobs.card.workers", /expected "auto" or a whole number .*, got "many"$/],
    ["retries = 101", "jobs.card.retries", /expected a whole number from 0 to 100, got 101$/],
    ["retries = -1", "jobs.card.retries", /expected a whole number from 0 to 100, got -1$/],
  ];
  for (const [line, keyPath, problem] of cases) {
    assert.throws(() => parse(`${CARD}${line}\n`), refusal(4, keyPath, problem), line);
  }
});

Deno.test("a bad job name is refused", () => {
  assert.throws(
    () => parse('[jobs."my card"]\nsource = "/a"\ndestinations = ["/b"]\n'),
    refusal(1, 'jobs."my card"', /bad job name; use letters, digits, -, _ and \. only/),
  );
  assert.throws(
    () => parse(`${CARD}\n[jobs.-card]\nsource = "/a"\ndestinations = ["/b"]\n`),
    refusal(5, "jobs.-card", /bad job name/),
  );
  const dotted = parse('[jobs."card.2026"]\nsource = "/a"\ndestinations = ["/b"]\n');
  assert.deepEqual([...dotted.jobs.keys()], ["card.2026"]);
});

Deno.test("a file without jobs is refused", () => {
  assert.throws(() => parse(""), refusal(null, "jobs", /no jobs; add one such as \[jobs\.card\]/));
  assert.throws(() => parse("# nothing yet\n\n[jobs]\n"), refusal(3, "jobs", /no jobs/));
});

Deno.test("~ needs the home folder and means only one's own", () => {
  assert.throws(
    () => parseConfig('[jobs.card]\nsource = "~/card"\ndestinations = ["/b"]\n', FILE, undefined),
    refusal(2, "jobs.card.source", /cannot expand ~: the home folder is not known/),
  );
  assert.throws(
    () => parse('[jobs.card]\nsource = "/a"\ndestinations = ["/b", "~bob/card"]\n'),
    refusal(
      3,
      "jobs.card.destinations[1]",
      /cannot expand "~bob\/card": only ~ and ~\/… are expanded; write the full path$/,
    ),
  );
});

Deno.test("lines are found through comments, multi-line strings, dotted keys and [[arrays]]", () => {
  const cases: [string, number, string][] = [
    [
      `# [jobs.fake] with limt = 1
[jobs.card]
source = """
/media/card"""
destinations = ['/mnt/ssd/card'] # a [comment], with "quotes"
limt = 1
`,
      6,
      "jobs.card.limt",
    ],
    [
      `[jobs]
card.source = "/media/card"
card.destinations = ["/mnt/ssd/card"]
card.retries = 101
`,
      4,
      "jobs.card.retries",
    ],
    [
      `[jobs.card]
source = "/media/card"

[[jobs.card.destinations]]
path = "/mnt/ssd/card"

[[jobs.card.destinations]]
path = "/mnt/nas/card"
limit = "fast"
`,
      9,
      "jobs.card.destinations[1].limit",
    ],
    [
      `[ jobs . "card" ]
source = "/media/card"
destinations = [
  "/mnt/ssd/card", # the fast one
  # the slow one:
  {
    path = "/mnt/nas/card",
    workers = 0,
  },
]
`,
      8,
      "jobs.card.destinations[1].workers",
    ],
    [
      `[jobs]
card = { source = "/media/card", destinations = ["/a", "/b",
  "~bob"] }
`,
      3,
      "jobs.card.destinations[2]",
    ],
  ];
  for (const [text, line, keyPath] of cases) {
    assert.throws(() => parse(text), refusal(line, keyPath, /./), text);
  }
});

Deno.test("a config written with every key set reads back as the same job", () => {
  const segment = fc.string({ unit: "grapheme", minLength: 1, maxLength: 8 })
    .filter((name) => !name.includes("/") && name !== "." && name !== "..");
  const folder = fc.array(segment, { minLength: 1, maxLength: 4 }).map((names) =>
    `/${names.join("/")}`
  );
  const glob = fc.string({ unit: "grapheme", minLength: 1, maxLength: 10 });
  const workers = fc.oneof(fc.constant("auto" as const), fc.integer({ min: 1, max: 64 }));
  const rate = fc.integer({ min: 1, max: 2 ** 40 });
  // Plain objects, as parseConfig makes, for deepEqual.
  const plain = { noNullPrototype: true };
  const job: fc.Arbitrary<Job> = fc.record({
    name: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,15}$/),
    file: fc.constant(FILE),
    source: folder,
    destinations: fc.array(fc.record({ path: folder, limit: rate, workers }, plain), {
      minLength: 1,
      maxLength: 3,
    }),
    exclude: fc.array(glob, { maxLength: 3 }),
    include: fc.array(glob, { maxLength: 3 }),
    only: fc.subarray(PRESET_NAMES),
    // An integer-like key would come first in a JavaScript object, whatever the file says.
    priorities: fc.uniqueArray(
      fc.record({
        pattern: glob.filter((pattern) => !/^\d+$/.test(pattern)),
        priority: fc.constantFrom(...PRIORITIES),
      }, plain),
      { selector: (rule) => rule.pattern, maxLength: 3 },
    ),
    hash: fc.constantFrom(...HASH_ALGORITHMS),
    ping: fc.webUrl(),
    workers,
    bwlimit: rate,
    retries: fc.integer({ min: 0, max: 100 }),
    verify: fc.boolean(),
    order: fc.constantFrom(...ORDERS),
    links: fc.boolean(),
  }, plain);
  fc.assert(fc.property(job, (job) => {
    assert.deepEqual(parse(toToml(job)).jobs.get(job.name), job);
  }));
});

/** A TOML basic string: JSON's escapes are TOML's, but DEL must be escaped too. */
function tomlString(text: string): string {
  return JSON.stringify(text).replaceAll("\x7f", "\\u007f");
}

function tomlValue(value: string | number | boolean | null): string {
  return typeof value === "string" ? tomlString(value) : String(value);
}

function toToml(job: Job): string {
  const list = (items: string[]) => `[${items.map(tomlString).join(", ")}]`;
  const destination = (d: JobDestination) =>
    `{ path = ${tomlString(d.path)}, limit = ${d.limit}, workers = ${tomlValue(d.workers)} }`;
  const priorities = job.priorities.map((rule) =>
    `${tomlString(rule.pattern)} = ${tomlString(rule.priority)}`
  );
  return [
    `[jobs.${tomlString(job.name)}]`,
    `source = ${tomlString(job.source)}`,
    `destinations = [\n  ${job.destinations.map(destination).join(",\n  ")},\n]`,
    `exclude = ${list(job.exclude)}`,
    `include = ${list(job.include)}`,
    `only = ${list(job.only)}`,
    `priority = { ${priorities.join(", ")} }`,
    `hash = ${tomlString(job.hash)}`,
    `ping = ${tomlValue(job.ping)}`,
    `workers = ${tomlValue(job.workers)}`,
    `bwlimit = ${job.bwlimit}`,
    `retries = ${job.retries}`,
    `verify = ${job.verify}`,
    `order = ${tomlValue(job.order)}`,
    `links = ${job.links}`,
    "",
  ].join("\n");
}

Deno.test("loadConfig reads a file and resolves paths against its folder", async () => {
  await using folder = await testFolder();
  const file = path.join(folder.path, "fanout.toml");
  await Deno.writeTextFile(file, '[jobs.card]\nsource = "card"\ndestinations = ["~/ssd"]\n');
  const config = await loadConfig(file, HOME);
  assert.equal(config.file, file);
  assert.deepEqual(config.jobs.get("card"), {
    ...bareJob("card", path.join(folder.path, "card"), ["/home/ana/ssd"]),
    file,
  });
});

Deno.test("loadConfig names a missing file and says how to create it", async () => {
  await using folder = await testFolder();
  const file = path.join(folder.path, "fanout.toml");
  await assert.rejects(
    loadConfig(file, HOME),
    new RegExp(`^ConfigError: ${escape(file)}: no config file there; create it with a job[^\\n]*$`),
  );
  await assert.rejects(
    loadConfig(folder.path, HOME),
    new RegExp(`^ConfigError: ${escape(folder.path)}: cannot read the config file: [^\\n]+$`),
  );
});

Deno.test("findJob gives the job, or lists the jobs the file has", () => {
  const config = parse(EXAMPLE);
  assert.equal(findJob(config, "usb").source, "/home/ana/Pictures");
  assert.throws(
    () => findJob(config, "cards"),
    new RegExp(
      `^ConfigError: ${escape(FILE)}: jobs\\.cards: no such job; the jobs are: card, usb$`,
    ),
  );
});

Deno.test("defaultConfigPath follows each platform's convention", () => {
  const env = (vars: Record<string, string>) => (name: string) => vars[name];
  assert.equal(
    defaultConfigPath("linux", env({ HOME: "/home/ana" })),
    "/home/ana/.config/fanout/fanout.toml",
  );
  assert.equal(
    defaultConfigPath("linux", env({ HOME: "/home/ana", XDG_CONFIG_HOME: "/etc/ana" })),
    "/etc/ana/fanout/fanout.toml",
  );
  // The XDG spec: a relative XDG_CONFIG_HOME is ignored.
  assert.equal(
    defaultConfigPath("freebsd", env({ HOME: "/home/ana", XDG_CONFIG_HOME: "conf" })),
    "/home/ana/.config/fanout/fanout.toml",
  );
  assert.equal(defaultConfigPath("linux", env({})), null);
  assert.equal(
    defaultConfigPath("darwin", env({ HOME: "/Users/ana", XDG_CONFIG_HOME: "/etc/ana" })),
    "/Users/ana/Library/Application Support/fanout/fanout.toml",
  );
  assert.equal(defaultConfigPath("darwin", env({})), null);
  assert.equal(
    defaultConfigPath("windows", env({ APPDATA: "C:\\Users\\ana\\AppData\\Roaming", HOME: "/x" })),
    "C:\\Users\\ana\\AppData\\Roaming\\fanout\\fanout.toml",
  );
  assert.equal(defaultConfigPath("windows", env({ HOME: "C:\\Users\\ana" })), null);
});
