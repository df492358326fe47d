import type { EcsDocument, LogRecord, SourceRef } from '../../src/record.js';
import { TestArena } from './arena.js';
import { ColumnBatch, ColumnPool } from '../../src/pipeline/batch.js';

export interface SampleRecordOptions {
  /** The source file. @default '/var/log/app/django.log' */
  path?: string;
  /** The file identity part of the record id. @default 'dev1-ino42-fp9' */
  idPrefix?: string;
  /** @default `request ${i} done` */
  message?: string;
  /** @timestamp as epoch milliseconds. @default 2026-01-01T00:00:00Z + i seconds */
  at?: number;
  /** Fields merged over the document last. */
  doc?: Partial<EcsDocument>;
}

/**
 * The i-th record of a Django log as a sink receives it: 100 bytes at offset i × 100, an INFO request line. Sink
 * tests vary what they are about through the options.
 */
export function sampleRecord(i: number, o: SampleRecordOptions = {}): LogRecord {
  const path = o.path ?? '/var/log/app/django.log';
  const start = i * 100;
  return {
    source: { path, idPrefix: o.idPrefix ?? 'dev1-ino42-fp9', ack() {} },
    start,
    end: start + 100,
    seq: i,
    bytes: 100,
    doc: {
      '@timestamp': new Date(o.at ?? Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
      message: o.message ?? `request ${i} done`,
      log: { level: 'INFO', logger: 'django.request', file: { path }, offset: start },
      host: { name: 'web-1' },
      ...o.doc,
    },
  };
}

/** A record of a ColumnBatch: its source, byte range and seq, and its document as JSON text. */
export interface Row {
  readonly source: SourceRef;
  readonly start: number;
  readonly end: number;
  readonly seq: number;
  readonly json: string;
}

/** A batch as the batcher makes them from the tailer's records (rows, JSON text in arena chunks). */
export function columnBatch(rows: readonly Row[], arena: TestArena = new TestArena()): ColumnBatch {
  const batch = new ColumnBatch(new ColumnPool(Math.max(1, rows.length)));
  for (const r of rows) {
    const { chunk, at, length } = arena.store(r.json);
    batch.add(r.source, r.start, r.end, r.seq, chunk, at, length);
  }
  return batch;
}
