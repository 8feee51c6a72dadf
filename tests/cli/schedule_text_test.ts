/** `fanout schedule`'s text: crontab and schtasks lines, --at, log paths, the invocation. */
import { assert } from "../deps.ts";
import { path } from "../../src/deps.ts";
import { InvalidArgumentError } from "../../src/cli/deps.ts";
import { UsageError } from "../../src/errors.ts";
import {
  defaultLogFile,
  type Every,
  fanoutInvocation,
  parseTime,
  type ScheduleRequest,
  scheduleText,
} from "../../src/cli/schedule_text.ts";
import { sh, testFolder } from "../helpers.ts";

const PERMISSIONS =
  "--allow-read --allow-write --allow-ffi --allow-sys --allow-env --v8-flags=--optimize-for-size";

function request(overrides: Partial<ScheduleRequest> = {}): ScheduleRequest {
  return {
    job: "photos",
    at: { hour: 2, minute: 30 },
    every: "day",
    platform: "linux",
    program: ["/usr/local/bin/fanout"],
    configFile: null,
    logFile: "/home/me/.local/state/fanout/photos.log",
    ...overrides,
  };
}

/** The command cron hands to sh for a crontab line: after five fields, `\%` read as `%`. */
function cronCommand(line: string): string {
  const command = line.replace(/^(?:\S+ ){5}/, "");
  let read = "";
  for (let i = 0; i < command.length; i++) {
    const char = command[i];
    if (char === "%") throw new Error(`an unescaped % would end the command: ${command}`);
    if (char === "\\" && command[i + 1] === "%") read += "%";
    else if (char === "\\") read += char + (command[i + 1] ?? "");
    else read += char;
    if (char === "\\") i++;
  }
  return read;
}

Deno.test("parseTime reads HH:MM with a one- or two-digit hour", () => {
  assert.deepEqual(parseTime("2:30"), { hour: 2, minute: 30 });
  assert.deepEqual(parseTime("02:30"), { hour: 2, minute: 30 });
  assert.deepEqual(parseTime("00:00"), { hour: 0, minute: 0 });
  assert.deepEqual(parseTime("23:59"), { hour: 23, minute: 59 });
});

Deno.test("parseTime refuses what is not a time of day", () => {
  for (const text of ["24:00", "2:60", "abc", "", "2:3", "002:30", "2.30", "-1:30", "2:30pm"]) {
    assert.throws(() => parseTime(text), InvalidArgumentError, text);
  }
});

Deno.test("the crontab line runs the job daily, hourly or on Sundays, and makes the log's folder", () => {
  const log = "/home/me/.local/state/fanout/photos.log";
  const command =
    `mkdir -p /home/me/.local/state/fanout && /usr/local/bin/fanout run photos --quiet >> ${log} 2>&1`;
  const install = "To install, run `crontab -e` and add the next line.";
  const expected: Record<Every, string> = {
    day:
      `# fanout: runs job "photos" every day at 02:30, appending its output to ${log}. ${install}\n` +
      `30 2 * * * ${command}\n`,
    hour:
      `# fanout: runs job "photos" every hour at minute 30 (the hour of --at is not used), appending its output to ${log}. ${install}\n` +
      `30 * * * * ${command}\n`,
    week:
      `# fanout: runs job "photos" every Sunday at 02:30, appending its output to ${log}. ${install}\n` +
      `30 2 * * 0 ${command}\n`,
  };
  for (const every of ["day", "hour", "week"] as const) {
    assert.equal(scheduleText(request({ every })), expected[every], every);
  }
});

Deno.test("the crontab line passes --config and runs deno with fanout's permissions", () => {
  const text = scheduleText(request({
    at: { hour: 23, minute: 5 },
    program: ["/usr/bin/deno", "run", ...PERMISSIONS.split(" "), "/opt/fanout/main.ts"],
    configFile: "/home/me/fanout.toml",
  }));
  assert.equal(
    text.split("\n")[1],
    `5 23 * * * mkdir -p /home/me/.local/state/fanout && /usr/bin/deno run ${PERMISSIONS} /opt/fanout/main.ts run photos --config /home/me/fanout.toml --quiet >> /home/me/.local/state/fanout/photos.log 2>&1`,
  );
});

Deno.test("on macOS the crontab line quotes paths with spaces and escapes % for cron", () => {
  const support = "/Users/me/Library/Application Support/fanout";
  const text = scheduleText(request({
    platform: "darwin",
    every: "week",
    program: [`${support}/fanout`],
    configFile: `${support}/100% jobs.toml`,
    logFile: "/Users/me/Library/Logs/fanout/photos.log",
  }));
  assert.deepEqual(text.split("\n"), [
    `# fanout: runs job "photos" every Sunday at 02:30, appending its output to /Users/me/Library/Logs/fanout/photos.log. To install, run \`crontab -e\` and add the next line.`,
    "# On macOS cron may need Full Disk Access (System Settings > Privacy & Security) to read your folders and disks.",
    `30 2 * * 0 mkdir -p /Users/me/Library/Logs/fanout && '${support}/fanout' run photos --config '${support}/100\\% jobs.toml' --quiet >> /Users/me/Library/Logs/fanout/photos.log 2>&1`,
    "",
  ]);
});

Deno.test("the crontab command, as cron hands it to sh, makes the log's folder and passes every word intact", async () => {
  await using folder = await testFolder();
  // A quote, spaces, a % and a backslash just before a % (which cron would read as \%).
  const programFolder = path.join(folder.path, "it's 100% fan out");
  await Deno.mkdir(programFolder);
  const program = path.join(programFolder, "fanout");
  await Deno.writeTextFile(program, `#!/bin/sh\nprintf '%s\\n' "$@"\n`);
  await Deno.chmod(program, 0o755);
  const configFile = path.join(folder.path, "my jobs 50%.toml");
  const logFile = path.join(folder.path, "Library Logs", "state\\%d", "photos.log");
  const line = scheduleText(request({ program: [program], configFile, logFile })).split("\n")[1];
  const command = cronCommand(line);
  assert.equal((await sh("sh", ["-n", "-c", command])).code, 0, command);
  for (let run = 0; run < 2; run++) {
    const result = await sh("sh", ["-c", command], { cwd: folder.path });
    assert.equal(result.code, 0, result.stderr);
  }
  const words = ["run", "photos", "--config", configFile, "--quiet"];
  assert.equal(await Deno.readTextFile(logFile), [...words, ...words].join("\n") + "\n");
});

Deno.test("the schtasks line quotes for cmd /c, escapes quotes for /TR and carets what cmd.exe would redirect", () => {
  const log = String.raw`C:\Users\me\AppData\Local\fanout\logs\photos.log`;
  const base: Partial<ScheduleRequest> = {
    platform: "windows",
    program: [String.raw`C:\Program Files\fanout\fanout.exe`],
    configFile: String.raw`C:\Users\me\fanout.toml`,
    logFile: log,
  };
  const comment =
    `rem fanout: runs job "photos" every day at 02:30, appending its output to ${log}. To install, paste the lines below into cmd.exe (no Administrator needed: the task runs as you, while you are logged on).`;
  const mkdir = String
    .raw`if not exist "C:\Users\me\AppData\Local\fanout\logs" mkdir "C:\Users\me\AppData\Local\fanout\logs"`;
  const taskRun = String
    .raw`/TR "cmd /c \"\"C:\Program Files\fanout\fanout.exe\" run photos --config \"C:\Users\me\fanout.toml\" --quiet ^>^> \"C:\Users\me\AppData\Local\fanout\logs\photos.log\" 2^>^&1\""`;
  assert.equal(
    scheduleText(request(base)),
    `${comment}\n${mkdir}\nschtasks /Create /TN "fanout photos" /SC DAILY /ST 02:30 /F ${taskRun}\n`,
  );
  const schedules: [Every, string][] = [["hour", "/SC HOURLY"], ["week", "/SC WEEKLY /D SUN"]];
  for (const [every, schedule] of schedules) {
    const line =
      scheduleText(request({ ...base, every, at: { hour: 7, minute: 5 } })).split("\n")[2];
    assert.equal(line, `schtasks /Create /TN "fanout photos" ${schedule} /ST 07:05 /F ${taskRun}`);
  }
});

Deno.test("a schtasks command longer than 261 characters goes into a .cmd file beside the log", () => {
  const logFolder = String.raw`C:\Users\someone with a long name\AppData\Local\fanout\logs`;
  const text = scheduleText(request({
    platform: "windows",
    program: [
      String.raw`C:\Users\someone with a long name\.deno\bin\deno.exe`,
      "run",
      ...PERMISSIONS.split(" "),
      String.raw`C:\Users\someone with a long name\src\fanout\main.ts`,
    ],
    logFile: `${logFolder}\\photos.log`,
  }));
  const command = String
    .raw`"C:\Users\someone with a long name\.deno\bin\deno.exe" run ${PERMISSIONS} "C:\Users\someone with a long name\src\fanout\main.ts" run photos --quiet >> "${logFolder}\photos.log" 2>&1`;
  const lines = text.split("\n");
  assert.match(
    lines[0],
    new RegExp(
      `Its command is ${
        `cmd /c "${command}"`.length
      } characters, more than the 261 schtasks /TR takes`,
    ),
  );
  assert.deepEqual(lines.slice(1), [
    `if not exist "${logFolder}" mkdir "${logFolder}"`,
    `> "${logFolder}\\photos.cmd" echo @${
      command.replace(">> ", "^>^> ").replace("2>&1", "2^>^&1")
    }`,
    `schtasks /Create /TN "fanout photos" /SC DAILY /ST 02:30 /F /TR "\\"${logFolder}\\photos.cmd\\""`,
    "",
  ]);
});

Deno.test("scheduleText refuses a line break anywhere, and a double quote on Windows", () => {
  assert.throws(() => scheduleText(request({ job: "a\nb" })), UsageError);
  assert.throws(() => scheduleText(request({ logFile: "/tmp/a\r/b.log" })), UsageError);
  assert.throws(
    () => scheduleText(request({ platform: "windows", job: 'say "hi"', logFile: "C:\\a.log" })),
    UsageError,
  );
});

Deno.test("defaultLogFile follows each platform's place for logs", () => {
  const env = (vars: Record<string, string>) => (name: string) => vars[name];
  assert.equal(
    defaultLogFile("linux", "photos", env({ HOME: "/home/me", XDG_STATE_HOME: "/srv/state" })),
    "/srv/state/fanout/photos.log",
  );
  assert.equal(
    defaultLogFile("linux", "photos", env({ HOME: "/home/me" })),
    "/home/me/.local/state/fanout/photos.log",
  );
  // The XDG spec says a relative or empty XDG_STATE_HOME is ignored.
  for (const state of ["state", ""]) {
    assert.equal(
      defaultLogFile("linux", "photos", env({ HOME: "/home/me", XDG_STATE_HOME: state })),
      "/home/me/.local/state/fanout/photos.log",
    );
  }
  assert.equal(
    defaultLogFile("darwin", "photos", env({ HOME: "/Users/me" })),
    "/Users/me/Library/Logs/fanout/photos.log",
  );
  assert.equal(
    defaultLogFile(
      "windows",
      "photos",
      env({ LOCALAPPDATA: String.raw`C:\Users\me\AppData\Local` }),
    ),
    String.raw`C:\Users\me\AppData\Local\fanout\logs\photos.log`,
  );
  assert.equal(defaultLogFile("linux", "photos", env({})), null);
  assert.equal(defaultLogFile("darwin", "photos", env({ XDG_STATE_HOME: "/srv/state" })), null);
  assert.equal(defaultLogFile("windows", "photos", env({ HOME: "/home/me" })), null);
});

Deno.test("fanoutInvocation runs deno with fanout's permissions, or a compiled fanout alone", () => {
  const permissions = PERMISSIONS.split(" ");
  assert.deepEqual(fanoutInvocation("/usr/bin/deno", "file:///opt/fan%20out/main.ts"), [
    "/usr/bin/deno",
    "run",
    ...permissions,
    "/opt/fan out/main.ts",
  ]);
  assert.deepEqual(fanoutInvocation("/usr/bin/deno", "https://example.com/fanout/main.ts"), [
    "/usr/bin/deno",
    "run",
    ...permissions,
    "https://example.com/fanout/main.ts",
  ]);
  assert.deepEqual(
    fanoutInvocation(
      String.raw`C:\Users\me\.deno\bin\deno.exe`,
      "file:///C:/Users/me/fanout/main.ts",
    ),
    [
      String.raw`C:\Users\me\.deno\bin\deno.exe`,
      "run",
      ...permissions,
      String.raw`C:\Users\me\fanout\main.ts`,
    ],
  );
  assert.deepEqual(
    fanoutInvocation("/usr/local/bin/fanout", "file:///tmp/deno-compile-fanout/main.ts"),
    [
      "/usr/local/bin/fanout",
    ],
  );
  assert.deepEqual(
    fanoutInvocation(String.raw`C:\Program Files\fanout\fanout.exe`, "file:///C:/fanout/main.ts"),
    [String.raw`C:\Program Files\fanout\fanout.exe`],
  );
});
