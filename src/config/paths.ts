/**
 * Path handling: relative paths are resolved against the config file's directory, and what `logship check`
 * can know about the file system before running is checked here (globs that compile, directories that can be
 * read). Paths that do not exist yet are fine: log files and their directories may appear later.
 */
import { accessSync, constants, statSync, type Stats } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import picomatch from 'picomatch';
import { ConfigError, describeErrno } from './errors.js';

/** A path or glob relative to `baseDir` made absolute (`logs/*.log` → `/etc/logship/logs/*.log`). */
export function resolvePattern(pattern: string, baseDir: string): string {
  return isAbsolute(pattern) ? pattern : resolve(baseDir, pattern);
}

/**
 * An exclude glob: one without a `/` (`*.gz`) stays as is and matches basenames; one with a `/` is a path
 * pattern, resolved like `paths` unless it already starts with `/` or `**`.
 */
export function resolveExclude(pattern: string, baseDir: string): string {
  if (!pattern.includes('/') || pattern.startsWith('**')) return pattern;
  return resolvePattern(pattern, baseDir);
}

/** A path written as `~/...`: the shell expands it, this config does not. */
export function checkNoTilde(written: string | undefined, key: string): void {
  if (written === '~' || written?.startsWith('~/')) {
    throw new ConfigError(key, `"~" is not expanded here: use an absolute path or \${HOME}/...`);
  }
}

/** Throws unless `pattern` is a glob picomatch compiles (unbalanced brackets, braces or parentheses are refused). */
export function checkGlob(pattern: string, key: string, shown: string = pattern): void {
  if (!picomatch.scan(pattern).isGlob) return;
  try {
    picomatch.makeRe(pattern, { strictBrackets: true });
  } catch (err) {
    throw new ConfigError(key, `invalid glob ${JSON.stringify(shown)}: ${(err as Error).message}`);
  }
}

/**
 * Checks the static part of an absolute input pattern: its base directory (or, for a plain path, its parent
 * and the file itself), when they exist, must be readable.
 */
export function checkInputPath(pattern: string, key: string): void {
  const scan = picomatch.scan(pattern);
  const base = scan.isGlob ? scan.base || '/' : dirname(pattern);
  checkReadableDirectory(base, key);
  if (!scan.isGlob) {
    const stats = statIfExists(pattern, key, 'file');
    if (stats && !stats.isDirectory()) access(pattern, constants.R_OK, key, 'cannot read file');
  }
}

/** A directory that, if it exists, can be listed and entered. */
export function checkReadableDirectory(dir: string, key: string): void {
  const stats = statIfExists(dir, key, 'directory');
  if (!stats) return;
  if (!stats.isDirectory()) throw new ConfigError(key, `${dir} is not a directory`);
  access(dir, constants.R_OK | constants.X_OK, key, 'cannot read directory');
}

/** A directory that, if it exists, can be written to (created later otherwise). */
export function checkWritableDirectory(dir: string, key: string): void {
  const stats = statIfExists(dir, key, 'directory');
  if (!stats) return;
  if (!stats.isDirectory()) throw new ConfigError(key, `${dir} is not a directory`);
  access(dir, constants.W_OK | constants.X_OK, key, 'cannot write to directory');
}

/** A file that must exist and be readable now (e.g. a CA certificate). */
export function checkReadableFile(file: string, key: string): void {
  let stats: Stats;
  try {
    stats = statSync(file);
  } catch (err) {
    throw new ConfigError(key, `cannot read file ${file}: ${describeErrno(err)}`);
  }
  if (stats.isDirectory()) throw new ConfigError(key, `${file} is a directory, expected a file`);
  access(file, constants.R_OK, key, 'cannot read file');
}

/** Stats of `path`, or undefined when it does not exist (yet); other failures (EACCES, ENOTDIR) are errors. */
function statIfExists(path: string, key: string, what: 'file' | 'directory'): Stats | undefined {
  try {
    return statSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigError(key, `cannot read ${what} ${path}: ${describeErrno(err)}`);
  }
}

function access(path: string, mode: number, key: string, failure: string): void {
  try {
    accessSync(path, mode);
  } catch (err) {
    throw new ConfigError(key, `${failure} ${path}: ${describeErrno(err)}`);
  }
}
