/** An input's path patterns, taken apart once: where each starts, and the glob below that. */
import picomatch from 'picomatch';

export interface CompiledPattern {
  /** The pattern as configured (absolute). */
  readonly pattern: string;
  /** Static directory prefix: where globbing starts and what is watched. A plain path is its own base. */
  readonly base: string;
  /** The glob below base, or null for a plain path. */
  readonly glob: string | null;
  /** How deep below base a match can be (undefined: any depth, for `**`). */
  readonly depth: number | undefined;
}

export function compilePattern(pattern: string): CompiledPattern {
  const scanned = picomatch.scan(pattern);
  if (!scanned.isGlob) return { pattern, base: pattern, glob: null, depth: 0 };
  const glob = scanned.glob;
  const depth = glob.includes('**') ? undefined : glob.split('/').length - 1;
  return { pattern, base: scanned.base === '' ? '/' : scanned.base, glob, depth };
}

/** The directory a pattern's matches lie under: its static prefix, or a plain path's directory. */
export function patternBase(pattern: string): string {
  const p = compilePattern(pattern);
  return p.glob === null ? dirnameOf(p.base) : p.base;
}

export function dirnameOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}
