/**
 * The test writer of Docker json-file logs (test/support/docker-json-file.ts) against what dockerd does: moby's own
 * test vectors for the escaping (daemon/logger/jsonfilelog/jsonlog/jsonlogbytes_test.go), Go's time format, the
 * copier's 16 KiB pieces, and the rotation of loggerutils.LogFile.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { containerOnDisk, DockerContainer, goJsonString, MemoryJsonLog, rfc3339Nano } from '../support/docker-json-file.js';

test('strings are escaped as ffjsonWriteJSONBytesAsString does (moby test vectors)', () => {
  const cases: [Buffer | string, string][] = [
    ['"A log line with \\"', '"\\"A log line with \\\\\\""'],
    ['A log line with \r', '"A log line with \\r"'],
    ['A log line with & < >', '"A log line with \\u0026 \\u003c \\u003e"'],
    ['A log line with utf8 : 🚀 ψ ω β', '"A log line with utf8 : 🚀 ψ ω β"'],
    ['\u2028 \u2029', '"\\u2028 \\u2029"'],
    [Buffer.from([0xaf]), '"\\ufffd"'],
    [Buffer.from([0x7f]), '"\x7f"'],
    // Not in moby's vectors, from the same code: tab and NUL as \u00XX, each byte of a broken sequence one \ufffd.
    ['a\tb\0c\n', '"a\\u0009b\\u0000c\\n"'],
    [Buffer.from([0xe2, 0x82, 0x41]), '"\\ufffd\\ufffdA"'],
    [Buffer.from([0xed, 0xa0, 0x80]), '"\\ufffd\\ufffd\\ufffd"'], // a UTF-16 surrogate is not UTF-8
  ];
  for (const [input, want] of cases) {
    const got = goJsonString(typeof input === 'string' ? Buffer.from(input) : input);
    assert.equal(got, want);
    JSON.parse(got); // and it is JSON
  }
});

test('times are RFC 3339 with nanoseconds, trailing zeros dropped, as Go formats time.RFC3339Nano', () => {
  assert.equal(rfc3339Nano(BigInt(Date.UTC(2017, 8, 1, 1, 1, 1)) * 1_000_000n + 1n), '2017-09-01T01:01:01.000000001Z');
  assert.equal(rfc3339Nano(BigInt(Date.UTC(2026, 10, 27, 12)) * 1_000_000n + 123_400_000n), '2026-11-27T12:00:00.1234Z');
  assert.equal(rfc3339Nano(BigInt(Date.UTC(2026, 10, 27, 12)) * 1_000_000n), '2026-11-27T12:00:00Z');
});

function entries(log: MemoryJsonLog, g = 0): { log?: string; stream: string; time: string }[] {
  return log.bytes(g).toString().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { log?: string; stream: string; time: string });
}

test('a long line is cut into 16 KiB pieces with the time of the first; the last piece ends in \\n', () => {
  const log = new MemoryJsonLog();
  const c = new DockerContainer(log);
  c.write('stdout', 'short\n' + 'a'.repeat(40_000) + '\n' + 'b'.repeat(16_384) + '\n');
  const e = entries(log);
  assert.deepEqual(e.map((x) => x.log!.length), [6, 16_384, 16_384, 7_233, 16_384, 1]);
  assert.equal(e[3]!.log!.endsWith('\n'), true);
  assert.equal(e[4]!.log!.endsWith('\n'), false);
  assert.equal(e[5]!.log, '\n'); // a line of exactly 16 KiB: its newline comes as an entry of its own
  assert.equal(new Set(e.slice(1, 4).map((x) => x.time)).size, 1);
  assert.notEqual(e[0]!.time, e[1]!.time);
  assert.deepEqual(c.lines.map((l) => [l.text.length, l.pieces]), [[5, 1], [40_000, 3], [16_384, 2]]);
  assert.deepEqual(Object.keys(JSON.parse(log.bytes(0).toString().split('\n')[0]!)), ['log', 'stream', 'time']);
});

test('at EOF an unfinished line goes out as a piece without newline', () => {
  const log = new MemoryJsonLog();
  const c = new DockerContainer(log);
  c.write('stderr', 'done\nno newline');
  assert.equal(entries(log).length, 1);
  assert.deepEqual(c.pending(), []);
  c.close();
  assert.deepEqual(entries(log).map((x) => [x.log, x.stream]), [['done\n', 'stderr'], ['no newline', 'stderr']]);
  assert.equal(c.lines.at(-1)!.unterminated, true);
});

test('max-size is checked before each entry; rotation renames -json.log → .1 → .2 and drops the oldest', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'logship-json-file-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const id = 'f'.repeat(64);
  const c = containerOnDisk(dir, id, { maxSize: 200, maxFile: 3 });
  const path = join(dir, `${id}-json.log`);
  for (let i = 0; i < 20; i++) c.write('stdout', `line ${i}\n`); // ~75-byte entries: 3 to a file
  c.close();
  assert.equal(c.log.rotations, 6);
  assert.ok(existsSync(`${path}.1`) && existsSync(`${path}.2`) && !existsSync(`${path}.3`));
  const logs = (p: string): string[] => readFileSync(p, 'utf8').split('\n').filter((l) => l !== '').map((l) => (JSON.parse(l) as { log: string }).log);
  assert.deepEqual(logs(`${path}.2`), ['line 12\n', 'line 13\n', 'line 14\n']);
  assert.deepEqual(logs(`${path}.1`), ['line 15\n', 'line 16\n', 'line 17\n']);
  assert.deepEqual(logs(path), ['line 18\n', 'line 19\n']);
  // A file is let grow past max-size by its last entry (the check comes before the write).
  assert.ok(readFileSync(`${path}.1`).length >= 200);
});
