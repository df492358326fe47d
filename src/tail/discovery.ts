import { lstatSync, readdirSync, statSync, type Dirent, type Stats } from 'node:fs';
import { basename, join } from 'node:path';
import picomatch from 'picomatch';
import { glob } from 'tinyglobby';
import { watch, type FSWatcher } from 'chokidar';
import type { InputConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import { compilePattern, dirnameOf, type CompiledPattern } from './patterns.js';
import { isUnder } from './open.js';
import { realpathSync } from 'node:fs';

/** A file a pattern matched, with the input it belongs to and what stat() said of it. */
export interface MatchedFile {
  readonly path: string;
  readonly input: InputConfig;
  readonly stat: Stats;
}

/** What one scan found. */
export interface ScanResult {
  /** Every regular file matched, by path; each file (device + inode) once, under the first path that reached it. */
  readonly files: Map<string, MatchedFile>;
  /** Patterns that match no file now: which input (index in the config's inputs), which of its paths, and the pattern. */
  readonly empty: readonly EmptyPattern[];
}

export interface EmptyPattern {
  readonly input: number;
  readonly index: number;
  readonly pattern: string;
}

interface CompiledInput {
  readonly input: InputConfig;
  readonly patterns: CompiledPattern[];
  readonly excluded: (path: string) => boolean;
  /** Does a path match one of the input's patterns (whether or not the file exists now)? */
  readonly matches: (path: string) => boolean;
}

/** How often the directories of matched files are looked through for links and special files to name. */
const SPECIAL_LOOK_EVERY_MS = 30_000;
/** Past this many directories, that look is skipped (a host with thousands of container directories). */
const SPECIAL_LOOK_MAX_DIRS = 256;
/** Paths said once (a skipped link, a FIFO) are remembered up to this many, so a hostile directory cannot grow it. */
const SAID_ONCE_LIMIT = 10_000;

/**
 * Resolves the inputs' path patterns to files. Globs are resolved at every scan (files appear all the time:
 * rotation, new containers); the watcher only makes a scan or read happen sooner, it is never trusted alone.
 *
 * Symbolic links are not followed unless the input says so (follow_symlinks): the scan looks with lstat(), globs
 * do not descend into linked directories, and a link at a matched path is skipped, with a warning once. A file
 * reached by several paths (links, hard links, overlapping patterns) is followed once.
 */
export class Discovery {
  private readonly inputs: CompiledInput[];
  private readonly saidOnce = new Set<string>();
  private lastSpecialLook = 0;

  /** @param selects a file predicate per input (containers not shipped: see src/containers/catalog.ts), asked before stat */
  constructor(
    inputs: readonly InputConfig[],
    private readonly logger: Logger | null = null,
    selects: (input: InputConfig, path: string) => boolean = () => true,
  ) {
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
  async scan(): Promise<ScanResult> {
    const files = new Map<string, MatchedFile>();
    const inodes = new Set<string>();
    const empty: EmptyPattern[] = [];
    for (const [i, { input, patterns, excluded }] of this.inputs.entries()) {
      const follow = input.symlinkRoots !== null;
      for (const [index, pattern] of patterns.entries()) {
        const paths =
          pattern.glob === null
            ? [pattern.base]
            : await glob(pattern.glob, { cwd: pattern.base, absolute: true, onlyFiles: true, dot: true, followSymbolicLinks: follow }).catch(
                () => [] as string[],
              );
        let matched = 0;
        for (const path of paths) {
          if (excluded(path)) continue;
          const stat = this.regularFile(path, input);
          if (stat === null) continue;
          matched++;
          const inode = `${stat.dev}:${stat.ino}`;
          if (files.has(path) || inodes.has(inode)) continue;
          inodes.add(inode);
          files.set(path, { path, input, stat });
        }
        if (matched === 0) empty.push({ input: i, index, pattern: pattern.pattern });
      }
    }
    if (Date.now() - this.lastSpecialLook >= SPECIAL_LOOK_EVERY_MS) this.saySpecialEntries(files);
    return { files, empty };
  }

  /**
   * Globbing passes over what is not a regular file (a symbolic link, a FIFO, a socket, a device) without a word: in
   * the directories where files are matched, such entries that a pattern matches are said once each (not read).
   */
  private saySpecialEntries(files: Map<string, MatchedFile>): void {
    this.lastSpecialLook = Date.now();
    const dirs = new Set<string>();
    for (const { patterns } of this.inputs) for (const p of patterns) dirs.add(p.glob === null ? dirnameOf(p.base) : p.base);
    for (const path of files.keys()) dirs.add(dirnameOf(path));
    for (const dir of dirs) {
      if (dirs.size > SPECIAL_LOOK_MAX_DIRS) break;
      let entries: Dirent[];
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch {
        continue;
      }
      for (const e of entries) {
        if (e.isFile() || e.isDirectory()) continue;
        const path = join(dir, e.name);
        const input = this.inputOf(path);
        if (input === undefined || (e.isSymbolicLink() && input.symlinkRoots !== null)) continue;
        this.regularFile(path, input); // says why it is not read
      }
    }
  }

  /** A followed path no longer holds a regular file: if something else is there (a link, a FIFO), say so (once). */
  explain(path: string): void {
    const input = this.inputOf(path);
    if (input !== undefined) this.regularFile(path, input);
  }

  /** The path's stat if it is a regular file the input may read; null otherwise (a skipped link or special file is said once). */
  private regularFile(path: string, input: InputConfig): Stats | null {
    const l = lstatOrNull(path);
    if (l === null) return null;
    if (l.isFile()) return l;
    if (!l.isSymbolicLink()) {
      if (!l.isDirectory()) this.sayOnce(path, 'a matched path is not a regular file: not read', { path });
      return null;
    }
    if (input.symlinkRoots === null) {
      this.sayOnce(path, 'a matched path is a symbolic link: not followed (follow_symlinks is off)', { path });
      return null;
    }
    const s = statOrNull(path);
    if (s === null || !s.isFile()) return null;
    const real = realpathOrNull(path);
    if (real === null || !input.symlinkRoots.some((root) => isUnder(real, root))) {
      this.sayOnce(path, 'a symbolic link leads outside symlink_roots: not followed', { path, target: real, symlink_roots: input.symlinkRoots });
      return null;
    }
    return s;
  }

  private sayOnce(path: string, msg: string, fields: Record<string, unknown>): void {
    if (this.saidOnce.has(path) || this.saidOnce.size >= SAID_ONCE_LIMIT) return;
    this.saidOnce.add(path);
    this.logger?.warn(msg, fields);
  }

  /**
   * Watch the patterns' base directories. `onChange` is called with a file's path when it changed (more to read),
   * `onEntry` on a file or directory appearing or going (something to scan).
   */
  watch(usePolling: boolean, onChange: (path: string) => void, onEntry: () => void): FSWatcher {
    const targets = new Set<string>();
    let depth: number | undefined = 0;
    let follow = false;
    for (const { input, patterns } of this.inputs) {
      follow ||= input.symlinkRoots !== null;
      for (const p of patterns) {
        // A plain path is watched through its directory: the file itself is replaced at every rotation.
        targets.add(p.glob === null ? dirnameOf(p.base) : p.base);
        depth = depth === undefined || p.depth === undefined ? undefined : Math.max(depth, p.depth);
      }
    }
    const watcher = watch([...targets], { ignoreInitial: true, usePolling, interval: 250, depth, followSymlinks: follow });
    watcher.on('all', (event, path) => (event === 'change' ? onChange(path) : onEntry()));
    watcher.on('error', () => undefined); // the periodic scan still works; nothing to do here
    return watcher;
  }
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}

export function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

function realpathOrNull(path: string): string | null {
  try {
    return realpathSync(path);
  } catch {
    return null;
  }
}
