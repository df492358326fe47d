/**
 * The one error type of config loading. Its message is a single line, `<key path>: <problem>`, e.g.
 * `sink.index: expected a non-empty string, got 42`; `key` is `config` for problems with the file as a whole.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly problem: string;

  constructor(
    readonly key: string,
    problem: string,
  ) {
    // Under a key named like a secret, no quoted value is ever shown, whatever produced the message.
    const shown = isSecretKeyPath(key) ? problem.replace(QUOTED, '(value not shown)') : problem;
    super(`${key}: ${shown}`);
    this.problem = shown;
  }
}

/** A JSON string in a message (show() quotes every value it shows). */
const QUOTED = /"(?:[^"\\]|\\.)*"/g;

/**
 * Key names whose values are credentials: password, passwd, secret, token, api_key / apikey, private_key, credentials,
 * client_secret, auth, authorization, … (in any case, with `_` or `-`).
 */
const SECRET_KEY = /pass(?:word|wd|phrase)?$|secret|token|api[_-]?key|private[_-]?key|credential|^auth(?:orization)?$/i;

/** Is a key of this name a credential? */
export function isSecretKey(name: string): boolean {
  return SECRET_KEY.test(name);
}

/** Does a key path (`sink.auth.password`, `labels.api_token`) lead through a key named like a secret? */
export function isSecretKeyPath(path: string): boolean {
  return path.split(/[.[\]]/).some((part) => part !== '' && isSecretKey(part));
}

/** What `logship` prints for a config that cannot be loaded: one line naming the key and the problem. */
export function configProblemLine(err: unknown): string {
  const message = err instanceof ConfigError ? err.message : `config: ${maskCredentialsIn(String((err as Error)?.message ?? err))}`;
  return `logship: ${message.replace(/\s*\n\s*/g, ' ')}\n`;
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
 * A value that is never a credential (a log format, a datefmt), as it appears in a message: quoted, long ones cut,
 * nothing masked — "%H:%M" is not a user and a password.
 */
export function showText(value: string): string {
  return JSON.stringify(value.length > MAX_SHOWN ? `${value.slice(0, MAX_SHOWN)}…` : value);
}

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
    const masked = maskCredentials(value);
    const cut = masked.length > MAX_SHOWN ? `${masked.slice(0, MAX_SHOWN)}…` : masked;
    return JSON.stringify(cut);
  }
  return String(value);
}

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;
/** A `:` that does not start a port (digits up to the end or a `/`, `?`, `#`). */
const NOT_A_PORT = /:(?!\d+(?:[/?#]|$))/;
/** An IPv6 literal in brackets (`[::1]`): its colons are no credentials' (only hex digits, `:` and `.` inside). */
const IPV6_LITERAL = /\[[0-9a-f:.]*\]/gi;
/**
 * A value with the credentials a URL may carry masked, however malformed the URL is: with an `@`, everything between
 * `user:` and the last `@` (`https://elastic:***@es:9200`, also without a scheme, with `/`, `@`, `#` or `%ZZ` in the
 * password), or a whole userinfo without `:` (`https://***@es`); without an `@`, everything after a `:` that starts
 * no port (`https://elastic:***`: the host forgotten, the password taken for a port). Over-masking an odd value in an
 * error message costs little; printing a password is what must never happen.
 */
export function maskCredentials(text: string): string {
  const at = text.lastIndexOf('@');
  if (at >= 0) {
    const scheme = SCHEME.exec(text)?.[0] ?? '';
    const userinfo = text.slice(scheme.length, at);
    const colon = userinfo.indexOf(':');
    return `${scheme}${colon >= 0 ? userinfo.slice(0, colon + 1) : ''}***${text.slice(at)}`;
  }
  const scheme = SCHEME.exec(text)?.[0] ?? '';
  const rest = text.slice(scheme.length);
  const m = NOT_A_PORT.exec(rest.replace(IPV6_LITERAL, (literal) => '_'.repeat(literal.length)));
  return m === null ? text : `${scheme}${rest.slice(0, m.index + 1)}***`;
}


/** Masks credentials (maskCredentials) in every word of a message that looks like a URL or holds an `@`. */
export function maskCredentialsIn(message: string): string {
  return message.replace(/\S+/g, (word) => (word.includes('@') || SCHEME.test(word) ? maskCredentials(word) : word));
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
