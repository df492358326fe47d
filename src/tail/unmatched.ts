/**
 * Input path patterns that match no file now: a wrong or missing log directory otherwise ships nothing without a
 * word. `logship check` warns with one line per pattern; the agent can call the same function at start and while
 * following (a pure function of the inputs and the file system, with the rules of discovery.ts).
 */
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import picomatch from 'picomatch';
import { glob } from 'tinyglobby';
import type { InputConfig } from '../config/types.js';

export interface UnmatchedPattern {
  /** Index in config.inputs. */
  readonly input: number;
  /** Index in that input's paths. */
  readonly index: number;
  /** The pattern, absolute. */
  readonly pattern: string;
}

/** Every input pattern that matches no regular file now (files its input excludes do not count). */
export async function patternsMatchingNothing(inputs: readonly InputConfig[]): Promise<UnmatchedPattern[]> {
  const out: UnmatchedPattern[] = [];
  for (const [i, input] of inputs.entries()) {
    const isExcluded = input.exclude.length > 0 ? picomatch(input.exclude, { dot: true }) : null;
    const kept = (path: string): boolean => isExcluded === null || !(isExcluded(path) || isExcluded(basename(path)));
    for (const [j, pattern] of input.paths.entries()) {
      if (!(await matchesAFile(pattern, kept))) out.push({ input: i, index: j, pattern });
    }
  }
  return out;
}

async function matchesAFile(pattern: string, kept: (path: string) => boolean): Promise<boolean> {
  const scanned = picomatch.scan(pattern);
  if (!scanned.isGlob) return kept(pattern) && isFile(pattern);
  const paths = await glob(scanned.glob, { cwd: scanned.base === '' ? '/' : scanned.base, absolute: true, onlyFiles: true, dot: true }).catch(
    () => [] as string[],
  );
  return paths.some((p) => kept(p) && isFile(p));
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
