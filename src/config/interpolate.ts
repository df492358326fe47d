import { ConfigError, keyPath } from './errors.js';

/**
 * Environment interpolation, applied to the parsed YAML (string scalars only, never keys), so that a value
 * containing `#` or `: ` cannot change the document's structure.
 *
 * - `${NAME}`           the variable's value; an unset variable is an error naming the key.
 * - `${NAME:-default}`  the default when NAME is unset or empty (as in sh); the default is taken literally.
 * - `$${`               a literal `${`.
 * A `$` not followed by `{` is kept as is. Substituted text is not interpolated again.
 */
export type Env = Readonly<Record<string, string | undefined>>;

const REFERENCE = /\$\$\{|\$\{([^}]*)\}?/g;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const USAGE = 'use ${NAME} or ${NAME:-default}; write $${ for a literal ${';

/** Interpolates every string scalar in `value` (a plain parsed-YAML tree); returns a new tree. */
export function interpolateTree(value: unknown, env: Env, path: PropertyKey[] = []): unknown {
  if (typeof value === 'string') return interpolateString(value, env, path);
  if (Array.isArray(value)) return value.map((item, i) => interpolateTree(item, env, [...path, i]));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = interpolateTree(v, env, [...path, k]);
    return out;
  }
  return value;
}

/** Interpolates one string; `path` only names the key in errors. */
export function interpolateString(text: string, env: Env, path: readonly PropertyKey[] = []): string {
  if (!text.includes('${')) return text;
  return text.replace(REFERENCE, (match: string, body: string | undefined) => {
    if (match === '$${') return '${';
    if (!match.endsWith('}') || body === undefined) {
      // What follows "${" is not shown: without its "}", it may be the rest of a password that holds a "${".
      throw new ConfigError(keyPath(path), `unclosed variable reference: \${ without a closing } (${USAGE})`);
    }
    const sep = body.indexOf(':-');
    const name = sep === -1 ? body : body.slice(0, sep);
    if (!NAME.test(name)) {
      throw new ConfigError(keyPath(path), `bad variable reference ${JSON.stringify(match)} (${USAGE})`);
    }
    const current = env[name];
    if (sep !== -1) return current === undefined || current === '' ? body.slice(sep + 2) : current;
    if (current === undefined) {
      throw new ConfigError(keyPath(path), `environment variable ${name} is not set`);
    }
    return current;
  });
}
