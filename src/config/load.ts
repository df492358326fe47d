/**
 * loadConfig: file → YAML → `${VAR}` interpolation → schema validation → `Config` → file system checks.
 * `logship run` and `logship check` both call it, so a config that passes check is one run accepts.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { isScalar, parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError, keyPath, show } from './errors.js';
import { interpolateTree, type Env } from './interpolate.js';
import { configSchema } from './schema.js';
import { buildConfig, checkFileSystem } from './build.js';
import { checkSinkNotFollowed } from './sink-loop.js';
import type { Config } from './types.js';

/**
 * Loads and validates a config file. Relative paths in it are resolved against the file's own directory.
 * Throws a ConfigError, whose message is one line naming the key (`sink.index: expected a non-empty string, got 42`).
 */
export function loadConfig(file: string, env: Env = process.env): Config {
  const configFile = resolve(file);
  let text: string;
  try {
    text = readFileSync(configFile, 'utf8');
  } catch (err) {
    throw new ConfigError('config', `cannot read ${configFile}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  return configFromText(text, configFile, env);
}

/** The same as loadConfig for YAML already read; `configFile` (absolute) anchors relative paths. */
export function configFromText(text: string, configFile: string, env: Env = process.env): Config {
  const tree = withoutEmptyValues(interpolateTree(parseYaml(text, configFile), env));
  const result = configSchema.safeParse(tree);
  if (!result.success) throw issueToError(result.error.issues);
  const config = buildConfig(result.data, configFile);
  checkFileSystem(result.data, config);
  checkSinkNotFollowed(config);
  return config;
}

/** The YAML document as plain data; duplicate keys, several documents and syntax errors are refused. */
export function parseYaml(text: string, configFile: string): unknown {
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  const [err] = doc.errors;
  if (err) {
    const line = lineOf(text, err.pos[0]);
    if (err.code === 'DUPLICATE_KEY') {
      throw new ConfigError('config', `duplicate key ${JSON.stringify(keyAt(text, err.pos[0]))} at line ${line}`);
    }
    const problem = err.code === 'MULTIPLE_DOCS' ? 'the file must hold a single YAML document' : err.message;
    throw new ConfigError('config', `YAML syntax error at line ${line}: ${oneLine(problem)}`);
  }
  // `mode: 0640` is the decimal 640 in YAML 1.2, which every Beats user writes meaning octal: keep it as its text.
  const mode = doc.getIn(['sink', 'mode'], true);
  if (isScalar(mode) && mode.type === 'PLAIN' && typeof mode.source === 'string' && /^0[0-7]+$/.test(mode.source)) mode.value = mode.source;
  const value: unknown = doc.toJS();
  if (value === null || value === undefined) throw new ConfigError('config', `${configFile} is empty`);
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError('config', `expected a mapping of keys at the top level, got ${show(value)}`);
  }
  refuseObjectKeys(value, []);
  return value;
}

/**
 * Keys no mapping of this config has, refused wherever they are: `__proto__` becomes an object's prototype when
 * copied with `out[k] = v` (so it passed the unknown-key check and could slip values in as inherited ones), and
 * `constructor` / `prototype` name Object's own machinery.
 */
const OBJECT_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function refuseObjectKeys(value: unknown, path: PropertyKey[]): void {
  if (Array.isArray(value)) {
    value.forEach((item, i) => refuseObjectKeys(item, [...path, i]));
  } else if (value !== null && typeof value === 'object') {
    for (const key of Object.keys(value)) {
      if (OBJECT_KEYS.has(key)) throw new ConfigError(keyPath([...path, key]), `unknown key (${key} is never a key of this config)`);
      refuseObjectKeys((value as Record<string, unknown>)[key], [...path, key]);
    }
  }
}

/** `key:` with nothing after it counts as a key not given (its default applies, or it is reported missing). */
function withoutEmptyValues(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutEmptyValues);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== null) out[k] = withoutEmptyValues(v);
    return out;
  }
  return value;
}

/**
 * The issue to report: an unknown key first (a misspelt key also makes the intended one "required"), else the
 * first issue in document order.
 */
function issueToError(issues: readonly z.core.$ZodIssue[]): ConfigError {
  const issue = issues.find((i) => i.code === 'unrecognized_keys') ?? issues[0];
  if (!issue) return new ConfigError('config', 'invalid');
  const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0] ?? ''] : issue.path;
  return new ConfigError(keyPath(path), oneLine(issue.message));
}

/** The mapping key written at `offset` (the yaml package points at its first character). */
function keyAt(text: string, offset: number): string {
  const rest = text.slice(offset);
  const quoted = /^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*')/.exec(rest);
  if (quoted?.[1]) return quoted[1].slice(1, -1);
  return (/^[^\n]*?(?=\s*:(?:\s|$))/.exec(rest)?.[0] ?? rest.split('\n', 1)[0] ?? '').trim();
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
