import { statSync, type Stats } from 'node:fs';
import { basename } from 'node:path';
import picomatch from 'picomatch';
import { glob } from 'tinyglobby';
import { watch, type FSWatcher } from 'chokidar';
import type { InputConfig } from '../config/types.js';

/** A file a pattern matched, with the input it belongs to and what stat() said of it. */
export interface MatchedFile {
  readonly path: string;
  readonly input: InputConfig;
  readonly stat: Stats;
}

interface CompiledPattern {
  /** Static directory prefix: where globbing starts and what is watched. */
  readonly base: string;
  /** The glob below base, or null for a plain path. */
  readonly glob: string | null;
  /** How deep below base a match can be (undefined: any depth, for `**`). */
  readonly depth: number | undefined;
}

interface CompiledInput {
  readonly input: InputConfig;
  readonly patterns: CompiledPattern[];
  readonly excluded: (path: string) => boolean;
  /** Does a path match one of the input's patterns (whether or not the file exists now)? */
  readonly matches: (path: string) => boolean;
}

/**
 * Resolves the inputs' path patterns to files. Globs are resolved at every scan (files appear all the time:
 * rotation, new containers); the watcher only makes a scan or read happen sooner, it is never trusted alone.
 */
export class Discovery {
  private readonly inputs: CompiledInput[];

  /** @param selects a file predicate per input (containers not shipped: see src/containers/catalog.ts), asked before stat */
  constructor(inputs: readonly InputConfig[], selects: (input: InputConfig, path: string) => boolean = () => true) {
    this.inputs = inputs.map((input) => {
      const isExcluded = input.exclude.length > 0 ? picomatch(input.exclude, { dot: true }) : null;
      return {
        input,
        patterns: input.paths.map(compilePattern),
        excluded: (path: string) =>
          (isExcluded !== null && (isExcluded(path) || isExcluded(basename(path)))) || !selects(input, path),
        matches: picomatch(input.paths, { dot: true }),
      };
    });
  }

  /**
   * The input a path belongs to, by the same rule as scan() (the first whose patterns match and whose excludes do
   * not): for checkpoints, which name the matched path a file was found at, after the file itself moved.
   */
  inputOf(path: string): InputConfig | undefined {
    return this.inputs.find((i) => i.matches(path) && !i.excluded(path))?.input;
  }

  /** Every regular file the patterns match now, each once (the first input that matches it wins). */
  async scan(): Promise<Map<string, MatchedFile>> {
    const found = new Map<string, MatchedFile>();
    for (const { input, patterns, excluded } of this.inputs) {
      for (const pattern of patterns) {
        const paths =
          pattern.glob === null
            ? [pattern.base]
            : await glob(pattern.glob, { cwd: pattern.base, absolute: true, onlyFiles: true, dot: true }).catch(
                () => [] as string[],
              );
        for (const path of paths) {
          if (found.has(path) || excluded(path)) continue;
          const stat = statOrNull(path);
          if (stat?.isFile()) found.set(path, { path, input, stat });
        }
      }
    }
    return found;
  }

  /** Watch the patterns' base directories; `onEvent` is called (without arguments) on any change there. */
  watch(usePolling: boolean, onEvent: () => void): FSWatcher {
    const targets = new Set<string>();
    let depth: number | undefined = 0;
    for (const { patterns } of this.inputs) {
      for (const p of patterns) {
        // A plain path is watched through its directory: the file itself is replaced at every rotation.
        targets.add(p.glob === null ? dirnameOf(p.base) : p.base);
        depth = depth === undefined || p.depth === undefined ? undefined : Math.max(depth, p.depth);
      }
    }
    const watcher = watch([...targets], { ignoreInitial: true, usePolling, interval: 250, depth });
    watcher.on('all', () => onEvent());
    watcher.on('error', () => undefined); // the periodic scan still works; nothing to do here
    return watcher;
  }
}

function compilePattern(pattern: string): CompiledPattern {
  const scanned = picomatch.scan(pattern);
  if (!scanned.isGlob) return { base: pattern, glob: null, depth: 0 };
  const glob = scanned.glob;
  const depth = glob.includes('**') ? undefined : glob.split('/').length - 1;
  return { base: scanned.base === '' ? '/' : scanned.base, glob, depth };
}

function dirnameOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

export function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}
