/**
 * A LogRecord as a google.logging.v2.LogEntry, in the object form the client serialises (protobufjs `fromObject`:
 * camelCase fields, enums by name, Struct and Timestamp as their messages).
 * https://cloud.google.com/logging/docs/reference/v2/rpc/google.logging.v2#google.logging.v2.LogEntry
 *
 * - jsonPayload: the ECS document, so every Django field is searchable (`jsonPayload.django.status_code=500`).
 * - timestamp: the record's @timestamp, to the nanosecond it carries.
 * - severity: from log.level (Python's DEBUG, INFO, WARNING, ERROR, CRITICAL, and the aliases WARN, FATAL); a record
 *   without a level that a container wrote to stderr is ERROR; otherwise DEFAULT ("no assigned severity level").
 * - insertId: recordId (file identity + offset). With the timestamp, the service's duplicate key: a record sent again
 *   (a retry after a lost answer, a restart before the checkpoint moved) is stored once.
 * - logName: `projects/PROJECT_ID/logs/LOG_ID`, LOG_ID URL-encoded ("a/b" → "a%2Fb") as the API requires.
 */
import { recordId, type EcsDocument, type LogRecord } from '../../src/record.js';
import type { Template, TemplateValues } from './template.js';
import { renderTemplate, templateValues } from './template.js';
import { LOG_ID_CHARS, MAX_LOG_ID_CHARS } from './config.js';

/** google.logging.type.LogSeverity names. */
export type Severity = 'DEFAULT' | 'DEBUG' | 'INFO' | 'NOTICE' | 'WARNING' | 'ERROR' | 'CRITICAL' | 'ALERT' | 'EMERGENCY';

/** Their numbers in log_severity.proto (the encoded size depends on them). */
export const SEVERITY_NUMBER: Readonly<Record<Severity, number>> = {
  DEFAULT: 0,
  DEBUG: 100,
  INFO: 200,
  NOTICE: 300,
  WARNING: 400,
  ERROR: 500,
  CRITICAL: 600,
  ALERT: 700,
  EMERGENCY: 800,
};

/** Level names as Python (logging.getLevelName), and the loggers that imitate it, write them. */
const LEVELS: Readonly<Record<string, Severity>> = {
  DEBUG: 'DEBUG',
  INFO: 'INFO',
  WARNING: 'WARNING',
  WARN: 'WARNING',
  ERROR: 'ERROR',
  CRITICAL: 'CRITICAL',
  FATAL: 'CRITICAL',
  // Cloud Logging's own names, should an app use them.
  NOTICE: 'NOTICE',
  ALERT: 'ALERT',
  EMERGENCY: 'EMERGENCY',
};

export function severityOf(doc: Pick<EcsDocument, 'log' | 'stream'>): Severity {
  const level = doc.log.level;
  if (level !== undefined) {
    const known = LEVELS[level.trim().toUpperCase()];
    if (known !== undefined) return known;
  }
  return doc.stream === 'stderr' ? 'ERROR' : 'DEFAULT';
}

export interface Timestamp {
  readonly seconds: number;
  readonly nanos: number;
}

const ISO = /^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:[.,](\d{1,9})\d*)?(Z|[+-]\d\d:?\d\d)?$/i;

/** An ISO 8601 / RFC 3339 time as a protobuf Timestamp, keeping up to nanoseconds; undefined when unreadable. */
export function toTimestamp(text: string | undefined): Timestamp | undefined {
  if (text === undefined) return undefined;
  const m = ISO.exec(text);
  if (!m) {
    const ms = Date.parse(text);
    return Number.isNaN(ms) ? undefined : { seconds: Math.floor(ms / 1000), nanos: (((ms % 1000) + 1000) % 1000) * 1e6 };
  }
  const [, y, mo, d, h, mi, s, fraction, zone] = m;
  let ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  if (Number.isNaN(ms)) return undefined;
  if (zone !== undefined && zone.toUpperCase() !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    ms -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
  }
  return { seconds: ms / 1000, nanos: fraction === undefined ? 0 : Number(fraction.padEnd(9, '0')) };
}

/** google.protobuf.Value / Struct / ListValue in object form. */
export type ProtoValue =
  | { nullValue: 'NULL_VALUE' }
  | { numberValue: number }
  | { stringValue: string }
  | { boolValue: boolean }
  | { structValue: ProtoStruct }
  | { listValue: { values: ProtoValue[] } };
export interface ProtoStruct {
  fields: Record<string, ProtoValue>;
}

/** JSON data → Struct, as JSON.stringify would see it: undefined members are left out, non-finite numbers are null. */
export function toStruct(obj: object): ProtoStruct {
  const fields: Record<string, ProtoValue> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (v !== undefined && typeof v !== 'function') fields[k] = toValue(v);
  }
  return { fields };
}

function toValue(v: unknown): ProtoValue {
  if (v === null || v === undefined) return { nullValue: 'NULL_VALUE' };
  switch (typeof v) {
    case 'string':
      return { stringValue: v };
    case 'number':
      return Number.isFinite(v) ? { numberValue: v } : { nullValue: 'NULL_VALUE' };
    case 'boolean':
      return { boolValue: v };
    case 'bigint':
      return { stringValue: v.toString() };
    case 'object':
      if (Array.isArray(v)) return { listValue: { values: v.map((x: unknown) => (x === undefined ? { nullValue: 'NULL_VALUE' } : toValue(x))) } };
      return { structValue: toStruct(v) };
    default:
      return { nullValue: 'NULL_VALUE' };
  }
}

/** A rendered LOG_ID made valid: other characters become "_", at most 511 characters, never empty. */
export function sanitizeLogId(text: string): string {
  const clean = LOG_ID_CHARS.test(text) ? text : text.replace(/[^A-Za-z0-9/_.-]/g, '_');
  const cut = clean.slice(0, MAX_LOG_ID_CHARS);
  return cut === '' ? 'logship' : cut;
}

/** `projects/PROJECT_ID/logs/LOG_ID` with LOG_ID URL-encoded, as LogEntry.log_name requires. */
export function formatLogName(projectId: string, logId: string): string {
  return `projects/${projectId}/logs/${encodeURIComponent(logId)}`;
}

/** The LogEntry fields besides the payload, which limits.ts sizes and fits separately. */
export interface EntryEnvelope {
  logName: string;
  resource: { type: string; labels: Record<string, string> };
  labels: Record<string, string>;
  timestamp?: Timestamp;
  severity: Severity;
  insertId: string;
}

export interface LogEntryMessage extends EntryEnvelope {
  jsonPayload: ProtoStruct;
}

/** What is the same for every record of a sink: the project, the resolved resource, the compiled templates. */
export interface EntryContext {
  readonly projectId: string;
  readonly logName: Template;
  readonly resource: { readonly type: string; readonly labels: Readonly<Record<string, Template>> };
  readonly labels: Readonly<Record<string, Template>>;
  /** Default of the {host} field for a record without host.name. */
  readonly hostName: string;
}

export function envelopeOf(record: LogRecord, ctx: EntryContext): EntryEnvelope {
  // A tailer record parses its JSON on each read of `doc`: once here for the templates, the time and the severity.
  const doc = record.doc;
  const values = templateValues(record, ctx.hostName, doc);
  const timestamp = toTimestamp(doc['@timestamp']);
  return {
    logName: formatLogName(ctx.projectId, sanitizeLogId(renderTemplate(ctx.logName, values))),
    resource: { type: ctx.resource.type, labels: renderAll(ctx.resource.labels, values) },
    labels: renderAll(ctx.labels, values),
    // Without a readable time the service stamps the entry itself (its duplicate check then cannot apply).
    ...(timestamp !== undefined && { timestamp }),
    severity: severityOf(doc),
    insertId: recordId(record),
  };
}

function renderAll(templates: Readonly<Record<string, Template>>, values: TemplateValues): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, t] of Object.entries(templates)) out[k] = renderTemplate(t, values);
  return out;
}
