/**
 * `--priority GLOB=LEVEL`: globs match the relative path; a glob without "/" matches the
 * file name in any folder (`*.CR3` matches `DCIM/100CANON/IMG_0001.CR3`). Case is ignored,
 * since cameras and computers disagree on it, and the last matching rule wins.
 */
import { picomatch } from "../deps.ts";
import type { PriorityRule } from "../coordinator/messages.ts";
import type { TaskPriority } from "./file_task.ts";

/**
 * The priority of each path under `rules`; "normal" where none matches.
 *
 * @example
 * const priorityOf = priorityMatcher([{ pattern: "*.CR3", priority: "high" }]);
 * priorityOf("DCIM/IMG_0001.cr3"); // "high"
 */
export function priorityMatcher(rules: PriorityRule[]): (path: string) => TaskPriority {
  const matchers = rules.map((rule) => ({
    // picomatch's basename option breaks patterns with "/", so it is set only without one.
    matches: picomatch(rule.pattern, {
      basename: !rule.pattern.includes("/"),
      dot: true,
      nocase: true,
    }),
    priority: rule.priority,
  })).reverse();
  return (path) => matchers.find((matcher) => matcher.matches(path))?.priority ?? "normal";
}
