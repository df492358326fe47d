/**
 * Input path patterns that match no file now: a wrong or missing log directory otherwise ships nothing without a
 * word. `logship check` warns with one line per pattern; the agent's scan reports the same (UnmatchedPatterns, kept by
 * the Keeper), by the same rules, since both ask Discovery.
 */
import type { InputConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import { Discovery, type EmptyPattern } from './discovery.js';

export type { EmptyPattern as UnmatchedPattern } from './discovery.js';

/** Every input pattern that matches no regular file now (files its input excludes, and links it does not follow, do not count). */
export async function patternsMatchingNothing(inputs: readonly InputConfig[]): Promise<readonly EmptyPattern[]> {
  return (await new Discovery(inputs).scan()).empty;
}

/** A pattern that matches nothing is said at start, then again at this pace while it stays so. */
const UNMATCHED_EVERY_MS = 5 * 60_000;

/** What the agent's scans say of patterns that match nothing: a warning, reminders, and a word when one matches again. */
export class UnmatchedPatterns {
  /** Patterns that match nothing now (for /health). */
  current: readonly EmptyPattern[] = [];
  /** Patterns that matched nothing at the last scan, with when that was last said. */
  private readonly said = new Map<string, number>();

  constructor(private readonly logger: Logger) {}

  /** The patterns a scan found matching nothing. */
  note(empty: readonly EmptyPattern[], now: number): void {
    this.current = empty;
    for (const { pattern } of empty) {
      const said = this.said.get(pattern);
      if (said !== undefined && now - said < UNMATCHED_EVERY_MS) continue;
      this.said.set(pattern, now);
      this.logger.warn('a path pattern matches no file', { pattern, ...(said === undefined ? {} : { still: true }) });
    }
    for (const pattern of this.said.keys()) {
      if (!empty.some((e) => e.pattern === pattern)) {
        this.said.delete(pattern);
        this.logger.info('a path pattern matches files again', { pattern });
      }
    }
  }
}
