/**
 * Items framed by the parse thread (ReplyWriter with the sink's ItemFraming) and copied a run at a time by encodeBulk
 * make the same `_bulk` body, byte for byte, as the same records written the unframed way (action line per record).
 * Everything here is the real code on both sides: the worker's ReplyWriter and ChunkStore, rows read as handOnRows
 * reads them, a ColumnBatch, and encodeBulk.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ChunkStore, ReplyWriter, RowsPool } from '../../src/parse-thread/reply-writer.js';
import { FramingBytes } from '../../src/pipeline/item-framing.js';
import { ParsedRecord } from '../../src/parse/document.js';
import { ROW_AT, ROW_CHUNK, ROW_END, ROW_FIELDS, ROW_FRAME, ROW_LENGTH, ROW_LINK, ROW_START } from '../../src/parse-thread/protocol.js';
import { ArenaChunk, type ChunkOwner } from '../../src/pipeline/arena.js';
import { ColumnBatch, ColumnPool, batchOf } from '../../src/pipeline/batch.js';
import { bulkItemFraming, encodeBulk } from '../../sinks/elasticsearch/encode.js';
import type { LogRecord, SourceRef } from '../../src/record.js';

const INDEX = 'logs-django-ünïcode';
const SOURCE: SourceRef = { path: '/var/log/app/django.log', idPrefix: 'Zm9vYmFy_-', ack() {} };

/** How one record is written by the worker. */
interface Written {
  readonly doc: string;
  /** The byte way (place + writtenRecord, with `spare` bytes placed and given back) or the JSON-text way. */
  readonly way: 'bytes' | 'text';
  readonly spare: number;
  /** The stream had no framing yet (its file's identity was not known). */
  readonly unframed: boolean;
  /** A record begun in the previous generation (link): never framed. */
  readonly carried: boolean;
  /** written() names another start than place() did: the head would name a wrong id, so the document goes alone. */
  readonly wrongStart: boolean;
}

const owner: ChunkOwner = { reclaim() {} };

/** Writes `records` as the worker does, then reads the reply's rows into a ColumnBatch as handOnRows does. */
function writeAndBatch(records: readonly Written[], starts: readonly number[]): { batch: ColumnBatch; framed: number } {
  const store = new ChunkStore();
  const out = new ReplyWriter(store, new RowsPool());
  const framing = new FramingBytes(bulkItemFraming(SOURCE.idPrefix));
  records.forEach((r, i) => {
    out.framing = r.unframed ? null : framing;
    const start = starts[i]!;
    if (r.way === 'text' || r.carried) {
      out.record(new ParsedRecord(start, start + 1, r.doc, 0, r.carried ? 7 : 0), start + 1);
      return;
    }
    const bytes = Buffer.from(r.doc);
    const { buffer, at } = out.place(bytes.length + r.spare, r.wrongStart ? start + 1 : start);
    buffer.set(bytes, at);
    out.record(out.writtenRecord(start, start + 1, 0, bytes.length), start + 1);
  });
  const { reply } = out.finish(1, 0, records.length, { position: 0, partialLine: false, heldFrom: -1 });
  const chunks = new Map<number, ArenaChunk>();
  for (const { id, memory } of reply.newChunks) chunks.set(id, new ArenaChunk(Buffer.from(memory), owner));
  const batch = new ColumnBatch(new ColumnPool(records.length));
  let framed = 0;
  for (let o = 0; o < reply.rowCount * ROW_FIELDS; o += ROW_FIELDS) {
    const rows = reply.rows;
    const frame = rows[o + ROW_LINK] === 0 ? rows[o + ROW_FRAME]! : 0;
    if (frame > 0) framed++;
    const chunk = chunks.get(rows[o + ROW_CHUNK]!)!;
    chunk.live++;
    batch.add(SOURCE, rows[o + ROW_START]!, rows[o + ROW_END]!, o / ROW_FIELDS, chunk, rows[o + ROW_AT]!, rows[o + ROW_LENGTH]!, frame);
  }
  return { batch, framed };
}

function unframedBody(docs: readonly string[], starts: readonly number[], pick?: readonly number[]): string {
  const records: LogRecord[] = (pick ?? docs.map((_, i) => i)).map((i) => ({
    source: SOURCE,
    start: starts[i]!,
    end: starts[i]! + 1,
    seq: i,
    bytes: 0,
    doc: {} as LogRecord['doc'],
    json: docs[i]!,
  }));
  return encodeBulk(batchOf(records)).body.toString('utf8');
}

/** The number of runs encodeBulk copies for the batch (a framed run counts once, an unframed record once). */
function runs(batch: ColumnBatch): number {
  let n = 0;
  for (let i = 0; i < batch.size; i += Math.max(1, batch.framedRun(i))) n++;
  return n;
}

const doc = (i: number, text: string): string => JSON.stringify({ '@timestamp': '2026-12-06T12:00:00.000Z', message: `${i} ${text}`, log: { offset: i } });

test('framed items make the body the unframed way makes: both ways of writing, every kind of record that is not framed', () => {
  const kinds: Written[] = [
    { doc: '', way: 'bytes', spare: 0, unframed: false, carried: false, wrongStart: false },
    { doc: '', way: 'bytes', spare: 40, unframed: false, carried: false, wrongStart: false },
    { doc: '', way: 'text', spare: 0, unframed: false, carried: false, wrongStart: false },
    { doc: '', way: 'bytes', spare: 3, unframed: true, carried: false, wrongStart: false },
    { doc: '', way: 'text', spare: 0, unframed: false, carried: true, wrongStart: false },
    { doc: '', way: 'bytes', spare: 0, unframed: false, carried: false, wrongStart: true },
  ];
  const records: Written[] = [];
  for (let i = 0; i < 600; i++) records.push({ ...kinds[i % 11 < 6 ? 0 : (i % kinds.length)]!, doc: doc(i, i % 5 === 0 ? 'café ☃ 😀' : 'x'.repeat(i % 300)) });
  // Offsets of every digit count, growing as a file's do.
  const starts = records.map((_, i) => (i < 20 ? i * 7 : Math.floor(1.9 ** (i / 20)) * 1000 + i));
  const { batch, framed } = writeAndBatch(records, starts);
  const docs = records.map((r) => r.doc);
  assert.equal(encodeBulk(batch).body.toString('utf8'), unframedBody(docs, starts));
  // Not vacuous: most records framed, and framed ones copied in runs of many.
  assert.ok(framed > 400, `${framed} framed`);
  assert.ok(runs(batch) < batch.size / 2, `${runs(batch)} runs for ${batch.size} records`);
  // A retry's batch (every third record) is framed still, in runs of one.
  const pick = docs.map((_, i) => i).filter((i) => i % 3 === 0);
  assert.equal(encodeBulk(batch.subset(pick)).body.toString('utf8'), unframedBody(docs, starts, pick));
});

test('framed items across chunks: a document that does not fit starts a chunk with its head; runs stop at chunk ends', () => {
  // ~300 KB documents: four to a 1 MiB chunk, and an oversized one (a chunk of its own).
  const big = (i: number, n: number): Written => ({ doc: doc(i, 'y'.repeat(n)), way: i % 2 === 0 ? 'bytes' : 'text', spare: 5, unframed: false, carried: false, wrongStart: false });
  const records = [big(0, 300_000), big(1, 300_000), big(2, 300_000), big(3, 300_000), big(4, 1_500_000), big(5, 10), big(6, 300_000), big(7, 300_000)];
  const starts = records.map((_, i) => 2 ** 31 - 2 + i * 1_000_003);
  const { batch, framed } = writeAndBatch(records, starts);
  assert.equal(framed, records.length);
  assert.equal(encodeBulk(batch).body.toString('utf8'), unframedBody(records.map((r) => r.doc), starts));
  assert.ok(runs(batch) >= 3, 'runs stop where chunks change');
});

test('property: any mix of records, framed or not, encodes to the unframed body', () => {
  const written = fc.record({
    text: fc.string({ unit: 'binary', maxLength: 200 }),
    way: fc.constantFrom('bytes' as const, 'text' as const),
    spare: fc.nat({ max: 50 }),
    unframed: fc.boolean(),
    carried: fc.boolean(),
    wrongStart: fc.boolean(),
  });
  fc.assert(
    fc.property(fc.array(fc.tuple(written, fc.nat({ max: 1_000_000 })), { minLength: 1, maxLength: 60 }), (list) => {
      let offset = 0;
      const starts = list.map(([, gap]) => (offset += gap + 1));
      const records = list.map(([w], i) => ({ ...w, doc: JSON.stringify({ i, m: w.text }) }));
      const { batch } = writeAndBatch(records, starts);
      assert.equal(encodeBulk(batch).body.toString('utf8'), unframedBody(records.map((r) => r.doc), starts));
    }),
    { numRuns: 300 },
  );
});
