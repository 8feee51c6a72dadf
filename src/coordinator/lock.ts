/**
 * One run per destination at a time: a run holds `<destination>/.fanout/lock` (pid, host,
 * start time), created exclusively, from its start to its end. A second run is refused
 * with a message naming the first. A lock whose process is gone from this host (a run that
 * was killed) is taken over with a warning; one from another host is never guessed about.
 */
import { path } from "../deps.ts";
import { ExitCode, FanoutError } from "../errors.ts";
import { openLibc } from "../libc.ts";
import { RECORDS_FOLDER } from "./scan.ts";

export const LOCK_NAME = "lock";

/** What a lock file says about the run holding it. */
export interface LockOwner {
  pid: number;
  host: string;
  startedAt: string;
}

/** Another run holds a destination: exit 3. */
export class LockedError extends FanoutError {
  constructor(message: string) {
    super(message, ExitCode.locked);
    this.name = "LockedError";
  }
}

/** This host's name, or "unknown" without --allow-sys. */
export function hostName(): string {
  if (Deno.permissions.querySync({ name: "sys", kind: "hostname" }).state !== "granted") {
    return "unknown";
  }
  return Deno.hostname();
}

/** Whether process `pid` still runs here; true where that cannot be told. */
function processAlive(pid: number): boolean {
  const libc = openLibc();
  return typeof libc === "string" || libc.processExists(pid);
}

export class DestinationLock {
  private constructor(private readonly file: string) {}

  /**
   * Takes the lock of `root` (named `name` in messages). Throws LockedError if another run
   * holds it; `warn` hears of a stale lock taken over.
   *
   * @example
   * const lock = await DestinationLock.acquire("/ssd/card", "/ssd/card", console.warn);
   * try { … } finally { await lock.release(); }
   */
  static async acquire(
    root: string,
    name: string,
    warn: (message: string) => void,
  ): Promise<DestinationLock> {
    const folder = path.join(root, RECORDS_FOLDER);
    await Deno.mkdir(folder, { recursive: true });
    const file = path.join(folder, LOCK_NAME);
    const me: LockOwner = { pid: Deno.pid, host: hostName(), startedAt: new Date().toISOString() };
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await Deno.writeTextFile(file, JSON.stringify(me) + "\n", { createNew: true });
        return new DestinationLock(file);
      } catch (error) {
        if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
      }
      const owner = await readOwner(file);
      const who = owner
        ? `process ${owner.pid} on ${owner.host}, started ${owner.startedAt}`
        : "a run whose lock cannot be read";
      if (!owner || owner.host !== me.host || me.host === "unknown" || processAlive(owner.pid)) {
        throw new LockedError(
          `${name} is in use by another fanout run (${who}); wait for it, or remove ${file} if that run is gone`,
        );
      }
      warn(`${name}: took over the lock of a run that is gone (${who})`);
      await Deno.remove(file).catch(() => {});
    }
    throw new LockedError(`${name}: another run took the lock at the same moment; try again`);
  }

  async release(): Promise<void> {
    await Deno.remove(this.file).catch(() => {});
  }
}

async function readOwner(file: string): Promise<LockOwner | null> {
  try {
    const owner = JSON.parse(await Deno.readTextFile(file));
    return typeof owner.pid === "number" && typeof owner.host === "string" ? owner : null;
  } catch {
    return null;
  }
}
