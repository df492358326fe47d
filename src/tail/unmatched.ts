/**
 * Input path patterns that match no file now: a wrong or missing log directory otherwise ships nothing without a
 * word. `logship check` warns with one line per pattern; the agent's scan reports the same (Keeper.emptyPatterns),
 * by the same rules, since both ask Discovery.
 */
import type { InputConfig } from '../config/types.js';
import { Discovery, type EmptyPattern } from './discovery.js';

export type { EmptyPattern as UnmatchedPattern } from './discovery.js';

/** Every input pattern that matches no regular file now (files its input excludes, and links it does not follow, do not count). */
export async function patternsMatchingNothing(inputs: readonly InputConfig[]): Promise<readonly EmptyPattern[]> {
  return (await new Discovery(inputs).scan()).empty;
}
