import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { open, writeFile } from 'node:fs/promises';
import { statSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { TrackedFile } from '../../src/tail/file.js';
import { ParseThread, ParseThreadFailed } from '../../src/parse-thread/thread.js';
import { ROW_CHUNK, ROW_FIELDS } from '../../src/parse-thread/protocol.js';
import { Counters } from '../../src/events.js';
import { silentLogger, type Logger } from '../../src/log.js';
import type { InputConfig } from '../../src/config/types.js';
import type { SourceRef } from '../../src/record.js';
import type { ArenaChunk } from '../../src/pipeline/arena.js';
import { tempDir } from '../support/agent.js';

const thread = new ParseThread();
after(() => thread.terminate());

interface Emitted {
  start: number;
  end: number;
  seq: number;
  doc: { message: string; stream?: string };
  chunk: ArenaChunk;
}

function trackedFile(
  type: InputConfig['type'],
  path: string,
  emitted: Emitted[],
  parse = thread,
  report: { events?: Counters; logger?: Logger } = {},
): TrackedFile {
  const st = statSync(path);
  const input: InputConfig = { type, paths: [path], exclude: [], timezone: 'UTC', startAt: 'beginning', includeOriginal: false, symlinkRoots: null, formatter: null };
  return new TrackedFile(path, st.dev, st.ino, null, 0, {
    input,
    parserContext: { hostName: 'h', timezone: 'UTC', includeOriginal: false, multilineTimeoutMs: 1000, maxRecordBytes: 1 << 20 },
    maxLineBytes: 1 << 20,
    events: report.events ?? new Counters(),
    logger: report.logger ?? silentLogger,
    emit: (_source: SourceRef, start, end, seq, chunk, at, length) => {
      const doc = JSON.parse(chunk.buffer.toString('utf8', at, at + length)) as Emitted['doc'];
      emitted.push({ start, end, seq, doc, chunk });
    },
    parse,
    changes: { n: 0 },
  }, Date.now());
}

/** A file of `lines` (each ending in "\n"), read through a TrackedFile in 1 MiB chunks; what it emitted, in order. */
async function readAll(type: InputConfig['type'], name: string, lines: string[]): Promise<{ file: TrackedFile; emitted: Emitted[]; ends: number[] }> {
  const path = join(tempDir(), name);
  await writeFile(path, lines.join(''));
  const ends: number[] = [];
  lines.reduce((at, l) => (ends.push(at + Buffer.byteLength(l)), at + Buffer.byteLength(l)), 0);
  const emitted: Emitted[] = [];
  const file = trackedFile(type, path, emitted);
  file.attach(await open(path, 'r'));
  assert.equal(await file.read(1 << 30, Date.now()), ends.at(-1));
  await file.close();
  return { file, emitted, ends };
}

test('records go on while a chunk is parsed, and the checkpoint moves record by record as they are acknowledged', async () => {
  const lines = Array.from({ length: 100 }, (_, i) => `{"asctime": "2026-11-27 12:00:00,000", "levelname": "INFO", "message": "line ${i}"}\n`);
  const { file, emitted, ends } = await readAll('django', 'django.log', lines);
  assert.deepEqual(emitted.map((r) => [r.start, r.end, r.seq, r.doc.message]), lines.map((_, i) => [i === 0 ? 0 : ends[i - 1], ends[i], i, `line ${i}`]));
  // Acknowledged out of order: the checkpoint is the end of the longest acknowledged prefix, also for the last
  // record of a group handed on in the middle of a chunk (the 16th).
  for (let i = 0; i < 16; i++) file.ack(i);
  assert.equal(file.committed, ends[15]);
  for (let i = 16; i < 20; i++) file.ack(i);
  for (let i = 50; i < 100; i++) file.ack(i);
  assert.equal(file.committed, ends[19]);
  for (let i = 20; i < 50; i++) file.ack(i);
  assert.equal(file.committed, ends[99]);
  assert.equal(file.outstanding, 0);
  for (const r of emitted) r.chunk.release();
});

test('Docker: a stdout line in pieces holds the checkpoint back while stderr lines complete and are acknowledged', async () => {
  const time = (n: number): string => `2026-11-27T12:00:00.${String(n).padStart(9, '0')}Z`;
  const entry = (log: string, stream: string, n: number): string => JSON.stringify({ log, stream, time: time(n) }) + '\n';
  // The stdout line's first piece, then 40 whole stderr lines (more than are handed on at once), then its last piece.
  const lines = [entry('first piece of a long line ', 'stdout', 0)];
  for (let i = 1; i <= 40; i++) lines.push(entry(`stderr line ${i}\n`, 'stderr', i));
  lines.push(entry('and its end\n', 'stdout', 41));
  const { file, emitted, ends } = await readAll('docker', `${'c'.repeat(64)}-json.log`, lines);
  assert.equal(emitted.length, 41);
  const stdout = emitted.find((r) => r.doc.stream === 'stdout')!;
  assert.deepEqual([stdout.start, stdout.end, stdout.doc.message], [0, ends[41], 'first piece of a long line and its end']);
  // Every stderr record acknowledged: the checkpoint stays at 0, where the unacknowledged stdout line starts.
  for (const r of emitted) if (r !== stdout) file.ack(r.seq);
  assert.equal(file.committed, 0);
  file.ack(stdout.seq);
  assert.equal(file.committed, ends[41]);
  for (const r of emitted) r.chunk.release();
});

test('a file of many chunks: every record once, in order, with its offsets, while reads are kept in flight', async () => {
  // ~6 MiB: six read requests, two in flight at a time; lines cross the 1 MiB chunk boundaries.
  const lines = Array.from({ length: 40_000 }, (_, i) => `{"asctime": "2026-11-27 12:00:00,000", "levelname": "INFO", "message": "line ${i} ${'x'.repeat(i % 200)}"}\n`);
  const { file, emitted, ends } = await readAll('django', 'big.log', lines);
  assert.equal(emitted.length, lines.length);
  emitted.forEach((r, i) => {
    assert.equal(r.seq, i);
    assert.equal(r.start, i === 0 ? 0 : ends[i - 1]);
    assert.equal(r.end, ends[i]);
    assert.equal(r.doc.message, `line ${i} ${'x'.repeat(i % 200)}`);
  });
  // The documents sit in shared chunks the worker filled; once every record in a chunk is released, the chunk goes back
  // to the worker and is filled again: another file's records land in the same chunks, none is made anew.
  const chunks = new Set(emitted.map((r) => r.chunk));
  assert.ok(chunks.size >= 6, `${chunks.size} chunks`);
  for (const r of emitted) {
    file.ack(r.seq);
    r.chunk.release();
  }
  assert.equal(file.committed, ends.at(-1));
  for (const c of chunks) assert.equal(c.live, 0);
  const again = await readAll('django', 'big2.log', lines);
  // Written over the released documents: every record of the second file reads back as its own line.
  assert.deepEqual(
    again.emitted.map((r) => [r.start, r.end, r.doc.message]),
    lines.map((_, i) => [i === 0 ? 0 : ends[i - 1], ends[i], `line ${i} ${'x'.repeat(i % 200)}`]),
  );
  const reused = new Set(again.emitted.map((r) => r.chunk));
  for (const c of reused) assert.ok(chunks.has(c), 'a chunk was made anew instead of reusing a released one');
  for (const r of again.emitted) r.chunk.release();
});

test('a failed read is reported and changes nothing; the file is read in full afterwards', async () => {
  const dir = tempDir();
  const path = join(dir, 'django.log');
  const line = '{"asctime": "2026-11-27 12:00:00,000", "levelname": "INFO", "message": "the only line"}\n';
  await writeFile(path, line);
  const emitted: Emitted[] = [];
  const file = trackedFile('django', path, emitted);
  // A directory's descriptor: stat works, read fails (EISDIR) in the worker.
  file.attach(await open(dir, 'r'));
  await assert.rejects(file.read(1 << 20, Date.now()), (err: Error) => !(err instanceof ParseThreadFailed) && /EISDIR/.test(err.message));
  await file.close();
  assert.equal(file.readOffset, 0);
  file.attach(await open(path, 'r'));
  assert.equal(await file.read(1 << 20, Date.now()), line.length);
  await file.close();
  assert.deepEqual(emitted.map((r) => [r.start, r.end, r.doc.message]), [[0, line.length, 'the only line']]);
  emitted[0]!.chunk.release();
});

test('a parse thread that failed says so for the request in flight and every one after', async () => {
  const own = new ParseThread();
  try {
    // A request for a stream the worker never opened is a bug on this side: fatal, not a failed read.
    await assert.rejects(own.flush(12345, false, true, Date.now()), (err: Error) => err instanceof ParseThreadFailed && /not open/.test(err.message));
    await assert.rejects(own.flush(1, false, true, Date.now()), ParseThreadFailed);
  } finally {
    await own.terminate();
  }
  // Terminated: requests fail at once instead of waiting for a reply that never comes.
  await assert.rejects(own.read(1, 0, 10, Date.now()), ParseThreadFailed);
});

test('records are counted in their chunk as each reply arrives, so a chunk a later reply seals waits for an earlier one', async () => {
  // Two read requests in flight; the second reply is handled first (as when the first one's caller still waits for a
  // fingerprint). The chunk the second reply seals holds the first reply's records: it must not be given back yet.
  const own = new ParseThread();
  const path = join(tempDir(), 'django.log');
  const line = (i: number): string => `{"asctime": "2026-11-27 12:00:00,000", "levelname": "INFO", "message": "line ${i} ${'y'.repeat(300)}"}\n`;
  await writeFile(path, Array.from({ length: 8000 }, (_, i) => line(i)).join(''));
  const fh = await open(path, 'r');
  try {
    const context = { path, hostName: 'h', timezone: 'UTC', includeOriginal: false, multilineTimeoutMs: 1000, maxRecordBytes: 1 << 20 };
    const stream = own.open('django', context, 1 << 20, 0);
    const first = own.read(stream, fh.fd, 1 << 20, Date.now());
    const second = own.read(stream, fh.fd, 1 << 20, Date.now());
    const later = await second;
    const earlier = await first;
    later.done();
    // The chunk the first reply's last records went into, left part-filled, then filled and sealed by the second.
    const firstChunkId = earlier.rows[(earlier.rowCount - 1) * ROW_FIELDS + ROW_CHUNK]!;
    const chunk = earlier.chunk(firstChunkId);
    assert.ok(later.sealed.includes(firstChunkId));
    let inChunk = 0;
    for (let o = ROW_CHUNK; o < earlier.rowCount * ROW_FIELDS; o += ROW_FIELDS) if (earlier.rows[o] === firstChunkId) inChunk++;
    assert.ok(chunk.sealed, 'sealed, and not given back: its records are live');
    assert.ok(chunk.live >= inChunk && inChunk > 0, `live ${chunk.live}, records of the first reply in it ${inChunk}`);
    earlier.done();
  } finally {
    await fh.close();
    await own.terminate();
  }
});

test('a binary file (a NUL byte in its first block) is skipped: no record, one warning naming it, counted, read to its end', async () => {
  const path = join(tempDir(), 'django.log.2.gz');
  // What a glob like "django.log*" also matches: a compressed rotation (gzip's header holds NUL bytes).
  await writeFile(path, gzipSync(Buffer.from('[2026-11-27 12:00:00,000] INFO hello\n'.repeat(500))));
  const size = statSync(path).size;
  const emitted: Emitted[] = [];
  const events = new Counters();
  const warnings: { msg: string; fields?: Record<string, unknown> }[] = [];
  const logger: Logger = { ...silentLogger, warn: (msg, fields) => warnings.push({ msg, fields }) };
  const file = trackedFile('django', path, emitted, thread, { events, logger });
  file.attach(await open(path, 'r'));
  assert.equal(await file.read(1 << 30, Date.now()), 0);
  assert.deepEqual(emitted, []);
  assert.equal(events.filesSkipped, 1);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!.msg, /not text/);
  assert.equal(warnings[0]!.fields?.path, path);
  // Nothing waits to be read there (monitoring does not see a stalled file), and nothing is held.
  assert.equal(file.readOffset, size);
  assert.equal(file.settled, true);
  assert.equal(await file.read(1 << 30, Date.now()), 0);
  assert.equal(warnings.length, 1, 'warned once');
  await file.close();
});
