import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ParsedRecord } from '../../src/parse/document.js';
import { createDjangoParser } from '../../src/parse/django.js';
import { ParseStream } from '../../src/parse-thread/stream.js';
import { ChunkStore, ReplyWriter, RowsPool } from '../../src/parse-thread/reply-writer.js';
import { LineSplitter } from '../../src/tail/lines.js';
import { replyRecords } from '../support/parse-file.js';
import { parserContext } from '../support/parsing.js';
import { OUTPUT_CHUNK_BYTES, ROW_AT, ROW_CHUNK, ROW_FIELDS, ROW_LENGTH, ROW_START, type ParsedReply } from '../../src/parse-thread/protocol.js';

/** The documents of a reply, read back from the chunks as the main thread reads them. */
function documents(store: ChunkStore, reply: ParsedReply): { start: number; chunk: number; json: string }[] {
  const out = [];
  for (let o = 0; o < reply.rowCount * ROW_FIELDS; o += ROW_FIELDS) {
    const chunk = reply.rows[o + ROW_CHUNK]!;
    const at = reply.rows[o + ROW_AT]!;
    out.push({ start: reply.rows[o + ROW_START]!, chunk, json: store.buffer(chunk).toString('utf8', at, at + reply.rows[o + ROW_LENGTH]!) });
  }
  return out;
}

const STATE = { position: 0, partialLine: false, heldFrom: -1 };

test('a document that does not fit the rest of a chunk, cut inside a UTF-8 character, is written whole in the next', () => {
  const store = new ChunkStore();
  const out = new ReplyWriter(store, new RowsPool());
  // Fill the first chunk to 3 bytes short of its end, then a document whose 4-byte character would straddle it.
  const filler = '{"m":"' + 'x'.repeat(1000) + '"}';
  const fillers = Math.floor((OUTPUT_CHUNK_BYTES - 3) / filler.length);
  const lastFiller = '{"m":"' + 'y'.repeat(OUTPUT_CHUNK_BYTES - 3 - fillers * filler.length - 8) + '"}';
  for (let i = 0; i < fillers; i++) out.record(new ParsedRecord(i, i + 1, filler, 0), i + 1);
  out.record(new ParsedRecord(fillers, fillers + 1, lastFiller, 0), fillers + 1);
  assert.equal(store.used, OUTPUT_CHUNK_BYTES - 3);
  const straddling = '😀 after the emoji';
  const exact = '{"m":"é"}';
  out.record(new ParsedRecord(fillers + 1, fillers + 2, straddling, 0), fillers + 2);
  out.record(new ParsedRecord(fillers + 2, fillers + 3, exact, 0), fillers + 3);
  const { reply } = out.finish(1, 0, 0, STATE);
  const docs = documents(store, reply);
  assert.equal(docs.length, fillers + 3);
  assert.deepEqual(reply.sealed, [docs[0]!.chunk]);
  assert.deepEqual(reply.newChunks.map((c) => c.id), [docs[0]!.chunk, docs.at(-1)!.chunk]);
  assert.ok(docs.slice(0, fillers).every((d) => d.json === filler && d.chunk === docs[0]!.chunk));
  assert.deepEqual(docs.slice(fillers).map((d) => d.json), [lastFiller, straddling, exact]);
  assert.notEqual(docs.at(-2)!.chunk, docs[0]!.chunk);
  assert.equal(store.used, Buffer.byteLength(straddling) + Buffer.byteLength(exact));
});

test('a document larger than a chunk gets a chunk of its own, which is dropped, not reused, once given back', () => {
  const store = new ChunkStore();
  const out = new ReplyWriter(store, new RowsPool());
  const big = '{"m":"' + 'é'.repeat(OUTPUT_CHUNK_BYTES) + '"}';
  out.record(new ParsedRecord(0, 10, '{"m":"small"}', 0), 10);
  out.record(new ParsedRecord(10, 20, big, 0), 20);
  out.record(new ParsedRecord(20, 30, '{"m":"after"}', 0), 30);
  const { reply } = out.finish(1, 0, 0, STATE);
  const docs = documents(store, reply);
  assert.deepEqual(docs.map((d) => d.json), ['{"m":"small"}', big, '{"m":"after"}']);
  assert.equal(new Set(docs.map((d) => d.chunk)).size, 3);
  assert.equal(store.buffer(docs[1]!.chunk).length, Buffer.byteLength(big));
  // Both full chunks given back: the standard one is filled again, the oversized one is gone.
  for (const id of reply.sealed) store.giveBack(id);
  assert.equal(store.buffer(docs[1]!.chunk), undefined);
  out.finish(2, 0, 0, STATE);
  // Too large for what is left of the current chunk, small enough for a standard one: the released one is taken.
  out.record(new ParsedRecord(30, 40, '{"m":"' + 'a'.repeat(OUTPUT_CHUNK_BYTES - 100) + '"}', 0), 40);
  const again = out.finish(3, 0, 0, STATE).reply;
  assert.equal(again.newChunks.length, 0, 'a released chunk is reused');
});

/** A Django text log of `records` records in the verbose layout, a traceback on every 5th, tagged with `tag`. */
function verboseLog(records: number, tag: string): string {
  const lines: string[] = [];
  for (let i = 0; i < records; i++) {
    lines.push(`${i % 5 === 0 ? 'ERROR' : 'INFO'} 2026-11-27 12:00:${String(i % 60).padStart(2, '0')},${String(i).padStart(3, '0')} views 4242 140245123456 ${tag} é seq=${i}`);
    if (i % 5 === 0) lines.push('Traceback (most recent call last):', `  File "/app/${tag}.py", line ${i}, in f`, '    g()', `KeyError: '${tag} ${i}'`);
  }
  return lines.join('\n') + '\n';
}

test('two files read in turns through one read buffer, as the worker reads them, give the records the string way gives', () => {
  // The byte ways keep a taken line where the read buffer has it until the read ends (RecordParser.detach): the next
  // read, of the other file, goes into the same buffer.
  const dir = mkdtempSync(join(tmpdir(), 'logship-stream-'));
  const texts = [verboseLog(300, 'a'), verboseLog(200, 'b')];
  const paths = texts.map((text, i) => {
    const path = join(dir, `django-${i}.log`);
    writeFileSync(path, text);
    return path;
  });
  const expected = texts.map((text, i) => {
    const records: string[] = [];
    const parser = createDjangoParser(parserContext(paths[i]!), (r) => records.push(r.json), 'file');
    new LineSplitter(1 << 20, (line) => parser.push(line, 0), 0).push(Buffer.from(text));
    parser.flush(0, true);
    return records;
  });
  for (const readSize of [97, 333, 4096]) {
    const store = new ChunkStore();
    const out = new ReplyWriter(store, new RowsPool());
    const streams = paths.map((path) => new ParseStream('django', parserContext(path), 1 << 20, 0, out));
    const fds = paths.map((path) => openSync(path, 'r'));
    const got: string[][] = [[], []];
    const readBuffer = Buffer.alloc(readSize);
    try {
      for (let busy = true; busy; ) {
        busy = false;
        for (let i = 0; i < 2; i++) {
          if (streams[i]!.read(fds[i]!, readBuffer, readSize, 0).bytesRead > 0) busy = true;
          readBuffer.fill(0x23); // what a reader that kept a reference past the read would see
          got[i]!.push(...replyRecords(store, out.finish(1, 0, 0, STATE).reply).map((r) => r.json));
        }
      }
      for (let i = 0; i < 2; i++) {
        streams[i]!.flush(false, true, 0);
        got[i]!.push(...replyRecords(store, out.finish(1, 0, 0, STATE).reply).map((r) => r.json));
      }
    } finally {
      for (const fd of fds) closeSync(fd);
    }
    assert.deepEqual(got, expected, `reads of ${readSize} bytes`);
  }
  assert.equal(expected[0]!.length, 300);
});
