/**
 * The shapes every stage agrees on: a document in Elastic Common Schema names, and a record that carries the
 * document together with where its bytes came from. The byte range is what makes delivery exact: it gives the
 * deterministic id, and acknowledging it moves the file's checkpoint.
 */
import type { ArenaChunk, DocumentArena } from './pipeline/arena.js';

/** Tags added to a document when the agent had to change or guess something. Never silently. */
export const TAG_PARSE_ERROR = '_logship_parse_error';
export const TAG_TRUNCATED = '_logship_truncated';
export const TAG_INVALID_UTF8 = '_logship_invalid_utf8';
export const TAG_PARTIAL_TIMEOUT = '_logship_partial_line_timeout';
export const TAG_NO_TIMESTAMP = '_logship_timestamp_missing';

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
  container?: { id: string };
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
   * JSON use it (or writeDocumentJson) as is; see ParsedLogRecord.
   */
  readonly json?: string;
  /** Approximate encoded size in bytes, for batch limits. */
  readonly bytes: number;
  /**
   * Called once, when delivery is done with the record (it was acknowledged): the record may free what it holds
   * and must not be read again.
   */
  release?(): void;
}

/**
 * A record as the tailer makes it. The document's JSON text is written at parse time into a DocumentArena chunk
 * (outside the JS heap; see arena.ts for why) and only the chunk and offset are kept. Sinks that send JSON copy the
 * bytes (writeDocumentJson) or decode them (`json`); a sink that needs the object (field templates, Cloud Logging's
 * jsonPayload) gets it from `doc`. Released once acknowledged: its bytes may then belong to another record.
 */
export class ParsedLogRecord implements LogRecord {
  private chunk: ArenaChunk | null;
  private readonly at: number;

  constructor(
    readonly source: SourceRef,
    readonly start: number,
    readonly end: number,
    readonly seq: number,
    json: string,
    /** UTF-8 bytes of the document's JSON text. */
    readonly jsonBytes: number,
    readonly bytes: number,
    arena: DocumentArena,
  ) {
    this.chunk = arena.store(json, jsonBytes);
    this.at = this.chunk.used - jsonBytes;
  }

  get json(): string {
    return this.text().buffer.toString('utf8', this.at, this.at + this.jsonBytes);
  }

  get doc(): EcsDocument {
    return JSON.parse(this.json) as EcsDocument;
  }

  /** Copies the JSON text into `target` at `offset`; returns the bytes copied. */
  copyJson(target: Buffer, offset: number): number {
    return this.text().buffer.copy(target, offset, this.at, this.at + this.jsonBytes);
  }

  release(): void {
    const chunk = this.chunk;
    this.chunk = null;
    if (chunk !== null) chunk.arena.release(chunk);
  }

  private text(): ArenaChunk {
    // Reading a released record would read whatever record reuses its bytes: fail loudly instead.
    if (this.chunk === null) throw new Error(`record ${recordId(this)} read after it was released`);
    return this.chunk;
  }
}

/** The record's document as JSON, serialised once. */
export function documentJson(record: LogRecord): string {
  return record.json ?? JSON.stringify(record.doc);
}

/** UTF-8 bytes of the record's document JSON. */
export function documentJsonBytes(record: LogRecord): number {
  return record instanceof ParsedLogRecord ? record.jsonBytes : Buffer.byteLength(documentJson(record));
}

/** Writes the record's document JSON (UTF-8) into `target` at `offset`; returns the bytes written. */
export function writeDocumentJson(record: LogRecord, target: Buffer, offset: number): number {
  return record instanceof ParsedLogRecord ? record.copyJson(target, offset) : target.write(documentJson(record), offset, 'utf8');
}

/** The deterministic id of a record: file identity + offset. Stable across restarts and re-sends. */
export function recordId(record: LogRecord): string {
  return `${record.source.idPrefix}-${record.start}`;
}
