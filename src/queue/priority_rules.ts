/**
 * `--priority GLOB=LEVEL`: globs match the relative path; a glob without "/" matches the
 * file name in any folder (`*.CR3` matches `DCIM/100CANON/IMG_0001.CR3`). Case is ignored,
 * since cameras and computers disagree on it, and the last matching rule wins.
 */
import { globMatcher } from "../coordinator/filter.ts";
import type { PriorityRule } from "../coordinator/messages.ts";
import type { TaskPriority } from "./file_task.ts";

/**
 * The priority of each path under `rules`; "normal" where none matches.
 *
 * @example
 * const priorityOf = await priorityMatcher([{ pattern: "*.CR3", priority: "high" }]);
 * priorityOf("DCIM/IMG_0001.cr3"); // "high"
 */
export async function priorityMatcher(
  rules: PriorityRule[],
): Promise<(path: string) => TaskPriority> {
  const matchers = await Promise.all(rules.map(async (rule) => ({
    matches: await globMatcher([rule.pattern]),
    priority: rule.priority,
  })));
  matchers.reverse();
  return (path) => matchers.find((matcher) => matcher.matches(path))?.priority ?? "normal";
}
