/**
 * The one error type of config loading. Its message is a single line, `<key path>: <problem>`, e.g.
 * `sink.index: expected a non-empty string, got 42`; `key` is `config` for problems with the file as a whole.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(
    readonly key: string,
    readonly problem: string,
  ) {
    super(`${key}: ${problem}`);
  }
}

/** What `logship` prints for a config that cannot be loaded: one line naming the key and the problem. */
export function configProblemLine(err: unknown): string {
  return `logship: ${err instanceof ConfigError ? err.message : `config: ${(err as Error).message}`}\n`;
}

/** `['inputs', 1, 'paths']` → `inputs[1].paths`; the empty path is `config`. */
export function keyPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? 'config' : out;
}

const MAX_SHOWN = 60;

/**
 * A config value as it appears after "got" in a message: strings quoted, long ones cut, credentials in URLs
 * masked, mappings and lists named rather than dumped (they may hold secrets).
 */
export function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'an empty value';
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : 'a list';
  if (typeof value === 'object') return Object.keys(value).length === 0 ? 'an empty mapping' : 'a mapping';
  if (typeof value === 'string') {
    const masked = value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/:@]*):[^/@]*@/i, '$1:***@');
    const cut = masked.length > MAX_SHOWN ? `${masked.slice(0, MAX_SHOWN)}…` : masked;
    return JSON.stringify(cut);
  }
  return String(value);
}

/** A system error code in words, for messages like `cannot read directory /x: permission denied`. */
export function describeErrno(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOTDIR':
      return 'a path component is not a directory';
    case 'ELOOP':
      return 'too many symbolic links';
    default:
      return code ?? (err instanceof Error ? err.message : String(err));
  }
}
