/**
 * Log group and log stream names from templates such as `/accreditrack/{input}` and `{host}/{file}`: parsing (for
 * config validation), rendering per record, and making a rendered name one CloudWatch Logs accepts.
 *
 * Name rules (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html and
 * API_CreateLogStream.html):
 * - log group: 1-512 characters of `a-z A-Z 0-9 . - _ / #`; names starting with `aws/` are reserved for AWS services;
 * - log stream: 1-512 characters, any but `:` and `*`.
 * A value a field brings in (a file name with a space, a host name with `:`) is made valid by replacing each
 * character the name may not hold with `_`; the fixed text of a template is validated when the config is loaded.
 */
import { basename } from 'node:path';
import type { EcsDocument, LogRecord } from '../../src/record.js';

/** The fields a template may name. */
export const TEMPLATE_FIELDS = ['host', 'input', 'file', 'container', 'container_name', 'service', 'path'] as const;
export type TemplateField = (typeof TEMPLATE_FIELDS)[number];

export const MAX_NAME_LENGTH = 512;
const GROUP_INVALID = /[^A-Za-z0-9._\-/#]/g;
const STREAM_INVALID = /[:*]/g;

/** A template split into fixed text and fields: `a/{host}` → ['a/', {field: 'host'}]. */
export type TemplatePart = string | { readonly field: TemplateField };

/** Parses a template; throws an Error whose message is the one-line problem (for the config loader). */
export function parseTemplate(template: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  const re = /\{([^{}]*)\}/g;
  let last = 0;
  for (let m = re.exec(template); m !== null; m = re.exec(template)) {
    if (m.index > last) parts.push(template.slice(last, m.index));
    const name = m[1] ?? '';
    if (!(TEMPLATE_FIELDS as readonly string[]).includes(name)) {
      throw new Error(`unknown template field ${JSON.stringify(`{${name}}`)} (known: ${TEMPLATE_FIELDS.map((f) => `{${f}}`).join(', ')})`);
    }
    parts.push({ field: name as TemplateField });
    last = m.index + m[0].length;
  }
  if (last < template.length) parts.push(template.slice(last));
  const fixed = parts.filter((p): p is string => typeof p === 'string').join('');
  if (/[{}]/.test(fixed)) throw new Error(`unbalanced "{" or "}" in ${JSON.stringify(template)}`);
  return parts;
}

/** The one-line problem with a log group template's fixed text, or null. */
export function groupTemplateProblem(template: string): string | null {
  const parts = parseTemplate(template);
  const fixed = parts.filter((p): p is string => typeof p === 'string').join('');
  const bad = fixed.match(GROUP_INVALID);
  if (bad) return `${JSON.stringify(bad[0])} cannot be part of a log group name (letters, digits and . - _ / # only)`;
  if (parts.every((p) => typeof p === 'string')) {
    if (template.length > MAX_NAME_LENGTH) return `a log group name has at most ${MAX_NAME_LENGTH} characters, got ${template.length}`;
    if (template.startsWith('aws/')) return 'log group names starting with "aws/" are reserved for AWS services';
  }
  return null;
}

/** The one-line problem with a log stream template's fixed text, or null. */
export function streamTemplateProblem(template: string): string | null {
  const parts = parseTemplate(template);
  const fixed = parts.filter((p): p is string => typeof p === 'string').join('');
  const bad = fixed.match(STREAM_INVALID);
  if (bad) return `${JSON.stringify(bad[0])} cannot be part of a log stream name`;
  if (parts.every((p) => typeof p === 'string') && template.length > MAX_NAME_LENGTH) {
    return `a log stream name has at most ${MAX_NAME_LENGTH} characters, got ${template.length}`;
  }
  return null;
}

/**
 * The value of each field for a record:
 * - host: the document's host.name (the agent's host_name);
 * - input: the type of the input the record's file belongs to (`django`, `docker`, `cri`); for a record made outside
 *   the tailer, `docker` when it looks like container output, else `django`;
 * - file: the base name of the file, without a rotation suffix (`django.log.1`, `django.log-20261127`, kubelet's
 *   `0.log.20261205-100000` → `django.log`, `0.log`), so that a rotated generation read later still goes to the
 *   stream of its file;
 * - container: the container id, `none` for a record that has none;
 * - container_name: the container's name (Docker's without "/", or the Kubernetes container's), `none` without one;
 * - service: the compose service (service.name), `none` without one;
 * - path: the full path of the file (with its rotation suffix, if it was read under that name).
 * All of them come from the document the caller parsed once for the record: nothing more per record.
 */
export function fieldValues(record: LogRecord, doc: EcsDocument, hostName: string): Record<TemplateField, string> {
  const path = doc.log.file.path || record.source.path;
  const docker = doc.stream !== undefined || doc.container !== undefined || /-json\.log(\.\d+)?$/.test(path);
  return {
    host: doc.host?.name ?? hostName,
    input: record.source.input?.type ?? (docker ? 'docker' : 'django'),
    file: basename(path).replace(/(\.\d+|-\d{8}(\d{2})?|\.\d{8}-\d{6})$/, ''),
    container: doc.container?.id ?? 'none',
    container_name: doc.container?.name ?? 'none',
    service: doc.service?.name ?? 'none',
    path,
  };
}

/** A compiled template: fixed text and field values joined. */
export function renderer(template: string): (values: Record<TemplateField, string>) => string {
  const parts = parseTemplate(template);
  if (parts.every((p) => typeof p === 'string')) return () => template;
  return (values) => {
    let out = '';
    for (const p of parts) out += typeof p === 'string' ? p : values[p.field];
    return out;
  };
}

/** A rendered group name made valid: characters it may not hold become `_`, cut to 512, never empty. */
export function validGroupName(name: string): string {
  return limit(name.replace(GROUP_INVALID, '_'));
}

/** A rendered stream name made valid: `:` and `*` become `_`, cut to 512, never empty. */
export function validStreamName(name: string): string {
  return limit(name.replace(STREAM_INVALID, '_'));
}

function limit(name: string): string {
  if (name === '') return '_';
  return name.length > MAX_NAME_LENGTH ? name.slice(0, MAX_NAME_LENGTH) : name;
}
