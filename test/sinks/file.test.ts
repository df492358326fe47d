import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LogRecord } from '../../src/record.js';
import type { Batch } from '../../src/sink.js';
import { silentLogger } from '../../src/log.js';
import { createFileSink, type FileSinkConfig } from '../../sinks/file/index.js';
import { batchOf as listBatch } from '../../src/pipeline/batch.js';

function record(i: number, message = `line ${i}`): LogRecord {
  return {
    source: { path: '/var/log/app/django.log', idPrefix: 'dev1-ino7-fp3', ack() {} },
    start: i * 50,
    end: i * 50 + 50,
    seq: i,
    bytes: 50,
    doc: { '@timestamp': '2025-01-01T00:00:00.000Z', message, log: { file: { path: '/var/log/app/django.log' }, offset: i * 50 } },
  };
}

function batchOf(from: number, n: number): Batch {
  const records = Array.from({ length: n }, (_, k) => record(from + k));
  return listBatch(records);
}

const deps = { logger: silentLogger, hostName: 'test' };

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'logship-file-sink-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function config(path: string, over: Partial<FileSinkConfig> = {}): FileSinkConfig {
  return { type: 'file', path, maxBytes: 100 * 1024 * 1024, maxFiles: 5, mode: 0o640, ...over };
}

async function lines(path: string): Promise<string[]> {
  const text = await readFile(path, 'utf8');
  assert.ok(text === '' || text.endsWith('\n'), 'file ends with a newline');
  return text === '' ? [] : text.slice(0, -1).split('\n');
}

test('writes one JSON document per line, creating the directory, appending across sends and restarts', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'nested', 'out', 'logs.ndjson');
    const sink = createFileSink(config(path), deps);
    assert.deepEqual(await sink.start(), { kind: 'delivered' });
    assert.deepEqual(await sink.send(batchOf(0, 3)), { kind: 'delivered' });
    assert.deepEqual(await sink.send(batchOf(3, 2)), { kind: 'delivered' });
    await sink.close();

    const again = createFileSink(config(path), deps);
    assert.deepEqual(await again.send(batchOf(5, 1)), { kind: 'delivered' }); // opens lazily without start()
    await again.close();

    const got = (await lines(path)).map((l) => JSON.parse(l) as { message: string });
    assert.deepEqual(got.map((d) => d.message), ['line 0', 'line 1', 'line 2', 'line 3', 'line 4', 'line 5']);
    assert.deepEqual(got[0], record(0).doc);
  });
});

test('rotates by size: every line is kept across path and path.N, in order, no file over maxBytes', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'logs.ndjson');
    const maxBytes = 1000;
    const sink = createFileSink(config(path, { maxBytes, maxFiles: 50 }), deps);
    for (let b = 0; b < 40; b++) assert.deepEqual(await sink.send(batchOf(b * 3, 3)), { kind: 'delivered' });
    await sink.close();

    const files = (await readdir(dir)).filter((f) => f.startsWith('logs.ndjson'));
    assert.ok(files.length > 3, `rotated into ${files.length} files`);
    const rotated = files.filter((f) => f !== 'logs.ndjson').map((f) => Number(f.split('.').pop()));
    rotated.sort((a, b) => b - a); // path.N is the oldest
    const all: string[] = [];
    for (const n of rotated) all.push(...(await lines(`${path}.${n}`)));
    all.push(...(await lines(path)));
    assert.deepEqual(all.map((l) => (JSON.parse(l) as { message: string }).message), Array.from({ length: 120 }, (_, i) => `line ${i}`));
    for (const f of files) assert.ok((await stat(join(dir, f))).size <= maxBytes, `${f} within maxBytes`);
  });
});

test('keeps at most maxFiles rotated files, removing the oldest', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'logs.ndjson');
    const sink = createFileSink(config(path, { maxBytes: 300, maxFiles: 2 }), deps);
    for (let b = 0; b < 20; b++) await sink.send(batchOf(b * 2, 2));
    await sink.close();
    assert.deepEqual((await readdir(dir)).sort(), ['logs.ndjson', 'logs.ndjson.1', 'logs.ndjson.2']);
    const last = (await lines(path)).map((l) => (JSON.parse(l) as { message: string }).message);
    assert.equal(last.at(-1), 'line 39');
  });
});

test('a batch larger than maxBytes goes whole into a fresh file', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'logs.ndjson');
    const sink = createFileSink(config(path, { maxBytes: 200 }), deps);
    await sink.send(batchOf(0, 1));
    assert.deepEqual(await sink.send(batchOf(1, 10)), { kind: 'delivered' });
    await sink.close();
    assert.equal((await lines(path)).length, 10);
    assert.equal((await lines(`${path}.1`)).length, 1);
  });
});

test('an I/O error is a retry with the reason, and the sink recovers once the cause is fixed', async () => {
  await withDir(async (dir) => {
    const blocker = join(dir, 'blocker');
    await writeFile(blocker, 'a file where a directory should be');
    const path = join(blocker, 'logs.ndjson');
    const sink = createFileSink(config(path), deps);
    const result = await sink.send(batchOf(0, 1));
    assert.equal(result.kind, 'retry');
    assert.match(result.kind === 'retry' ? result.reason : '', /ENOTDIR|EEXIST/);
    await rm(blocker);
    assert.deepEqual(await sink.send(batchOf(0, 1)), { kind: 'delivered' });
    await sink.close();
    assert.equal((await lines(path)).length, 1);
  });
});

test('files the sink creates get sink.mode exactly (0640 by default, whatever the umask); an existing file keeps its own', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'out.ndjson');
    const previous = process.umask(0o022);
    try {
      const sink = createFileSink(config(path, { maxBytes: 200 }), deps);
      assert.deepEqual(await sink.send(batchOf(0, 2)), { kind: 'delivered' });
      assert.equal((await stat(path)).mode & 0o777, 0o640);
      assert.deepEqual(await sink.send(batchOf(2, 2)), { kind: 'delivered' }); // over maxBytes: rotated, a new file
      assert.equal((await stat(path)).mode & 0o777, 0o640);
      assert.equal((await stat(`${path}.1`)).mode & 0o777, 0o640);
      await sink.close();

      const custom = createFileSink(config(join(dir, 'custom.ndjson'), { mode: 0o600 }), deps);
      assert.deepEqual(await custom.send(batchOf(0, 1)), { kind: 'delivered' });
      assert.equal((await stat(join(dir, 'custom.ndjson'))).mode & 0o777, 0o600);
      await custom.close();

      const existing = join(dir, 'existing.ndjson');
      await writeFile(existing, '{"kept":true}\n', { mode: 0o644 });
      const again = createFileSink(config(existing), deps);
      assert.deepEqual(await again.send(batchOf(0, 1)), { kind: 'delivered' });
      assert.equal((await stat(existing)).mode & 0o777, 0o644);
      await again.close();
    } finally {
      process.umask(previous);
    }
  });
});
