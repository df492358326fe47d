/**
 * The shapes every stage agrees on: a document in Elastic Common Schema names, and a record that carries the
 * document together with where its bytes came from. The byte range is what makes delivery exact: it gives the
 * deterministic id, and acknowledging it moves the file's checkpoint.
 */

/** Tags added to a document when the agent had to change or guess something. Never silently. */
export const TAG_PARSE_ERROR = '_logship_parse_error';
export const TAG_TRUNCATED = '_logship_truncated';
export const TAG_INVALID_UTF8 = '_logship_invalid_utf8';
export const TAG_PARTIAL_TIMEOUT = '_logship_partial_line_timeout';
export const TAG_NO_TIMESTAMP = '_logship_timestamp_missing';
/** The rest of a line whose beginning was shipped without it after partial_line_timeout: a record of its own. */
export const TAG_PARTIAL_TAIL = '_logship_partial_line_tail';
/** With TAG_PARSE_ERROR: a JSON line nesting deeper than MAX_JSON_DEPTH, shipped as its text. */
export const TAG_TOO_DEEP = '_logship_too_deep';

/** A log document with ECS field names. Nested objects, as Elasticsearch stores them. */
export interface EcsDocument {
  '@timestamp': string;
  message: string;
  log: {
    level?: string;
    logger?: string;
    file: { path: string };
    offset: number;
    origin?: { file?: { name?: string; line?: number }; function?: string };
  };
  error?: { stack_trace?: string; type?: string; message?: string };
  process?: { pid?: number; thread?: { id?: number; name?: string } };
  container?: {
    id?: string;
    name?: string;
    image?: { name: string; tag?: string; hash?: { all: string[] } };
    /** Label keys with their dots as "_" (com_docker_compose_service). */
    labels?: Record<string, string>;
  };
  service?: { name: string };
  kubernetes?: { namespace: string; pod: { name: string; uid?: string }; container: { name: string } };
  stream?: 'stdout' | 'stderr';
  host?: { name: string };
  event?: { original?: string };
  /** Every other key of a Django JSON record, as it was. */
  django?: Record<string, unknown>;
  tags?: string[];
}

/**
 * One file instance as delivery sees it. `idPrefix` is derived from the file identity (device, inode, fingerprint),
 * never from the path, so `${idPrefix}-${offset}` names a record for good.
 */
export interface SourceRef {
  readonly path: string;
  readonly idPrefix: string;
  /** The input the file belongs to (the tailer's files have it), for sinks' `{input}` template field. */
  readonly input?: { readonly type: string };
  /** Called once for every record of this source that a sink acknowledged (delivered or dead-lettered). */
  ack(seq: number): void;
}

export interface LogRecord {
  readonly source: SourceRef;
  /** Byte offset of the record's first byte in its file. */
  readonly start: number;
  /** Byte offset just past the record's last byte (after its newline). */
  readonly end: number;
  /** Position of the record in its source's acknowledgement order. */
  readonly seq: number;
  readonly doc: EcsDocument;
  /**
   * The document as JSON, when it was serialised at parse time (records from the tailer always are). Sinks that send
   * JSON use it as is.
   */
  readonly json?: string;
  /** Approximate encoded size in bytes, for batch limits. */
  readonly bytes: number;
}

/** The record's document as JSON, serialised once. */
export function documentJson(record: LogRecord): string {
  return record.json ?? JSON.stringify(record.doc);
}

/** The deterministic id of a record: file identity + offset. Stable across restarts and re-sends. */
export function recordId(record: LogRecord): string {
  return `${record.source.idPrefix}-${record.start}`;
}
