import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineSplitter } from '../../src/tail/lines.js';
import type { Line } from '../../src/parse/types.js';

function split(chunks: Buffer[], max = 1024, start = 0): { lines: Line[]; splitter: LineSplitter } {
  const lines: Line[] = [];
  const splitter = new LineSplitter(max, (l) => lines.push(l), start);
  for (const c of chunks) splitter.push(c);
  return { lines, splitter };
}

test('lines carry exact byte offsets across chunk boundaries', () => {
  const { lines, splitter } = split([Buffer.from('ab\ncd'), Buffer.from('ef\n\ngh')], 1024, 100);
  assert.deepEqual(
    lines.map((l) => [l.text, l.start, l.end]),
    [
      ['ab', 100, 103],
      ['cdef', 103, 108],
      ['', 108, 109],
    ],
  );
  assert.equal(splitter.consumed, 109);
  assert.equal(splitter.position, 111);
  assert.ok(splitter.hasPartial());
  splitter.flushPartial();
  assert.deepEqual([lines[3]!.text, lines[3]!.start, lines[3]!.end, lines[3]!.partial], ['gh', 109, 111, true]);
});

test('the shared chunk buffer may be overwritten after push: lines were decoded already', () => {
  const lines: Line[] = [];
  const s = new LineSplitter(1024, (l) => lines.push(l), 0);
  const shared = Buffer.from('one\ntw');
  s.push(shared);
  shared.write('XXXXXX');
  s.push(Buffer.from('o\n'));
  assert.deepEqual(lines.map((l) => l.text), ['one', 'two']);
});

test('CRLF endings lose their \\r; byte accounting keeps it', () => {
  const { lines } = split([Buffer.from('a\r\nb\r'), Buffer.from('\n')]);
  assert.deepEqual(lines.map((l) => [l.text, l.start, l.end]), [
    ['a', 0, 3],
    ['b', 3, 6],
  ]);
});

test('a line over max_line_bytes is truncated on a UTF-8 boundary and marked, the rest skipped to its newline', () => {
  const long = 'é'.repeat(100); // 200 bytes
  const { lines } = split([Buffer.from(long.slice(0, 30)), Buffer.from(long.slice(30) + '\nnext\n')], 51);
  assert.equal(lines.length, 2);
  assert.equal(lines[0]!.truncated, true);
  assert.equal(lines[0]!.text, 'é'.repeat(25)); // 50 bytes: the 51st would split a character
  assert.equal(lines[0]!.end, 201);
  assert.deepEqual([lines[1]!.text, lines[1]!.start, lines[1]!.truncated], ['next', 201, false]);
});

test('a 5 MB line in one chunk is truncated, not held in full', () => {
  const big = Buffer.concat([Buffer.alloc(5 * 1024 * 1024, 0x61), Buffer.from('\nok\n')]);
  const { lines } = split([big], 1024 * 1024);
  assert.equal(lines[0]!.text.length, 1024 * 1024);
  assert.equal(lines[0]!.truncated, true);
  assert.equal(lines[0]!.end, 5 * 1024 * 1024 + 1);
  assert.equal(lines[1]!.text, 'ok');
});

test('invalid UTF-8 is flagged; a genuine U+FFFD is not', () => {
  const { lines } = split([Buffer.from([0x61, 0xff, 0xfe, 0x62, 0x0a]), Buffer.from('real \uFFFD here\n')]);
  assert.equal(lines[0]!.invalidUtf8, true);
  assert.equal(lines[0]!.text, 'a\uFFFD\uFFFDb');
  assert.equal(lines[1]!.invalidUtf8, false);
});

test('takeBytes is offered every whole line, also one that spanned reads; not a truncated or an unfinished one', () => {
  const offered: { text: string; start: number; end: number }[] = [];
  const decoded: Line[] = [];
  // Takes lines starting with "b"; the others are declined and decoded.
  const splitter = new LineSplitter(16, (l) => decoded.push(l), 0, (buf, from, to, start, end) => {
    offered.push({ text: buf.toString('utf8', from, to), start, end });
    return buf[from] === 0x62;
  });
  const bytes = Buffer.from('a1\nb2 spans reads\r\nb3 is far longer than sixteen bytes\nb4 unfinished');
  for (let i = 0; i < bytes.length; i += 5) splitter.push(bytes.subarray(i, Math.min(bytes.length, i + 5)));
  splitter.flushPartial();
  assert.deepEqual(offered, [
    { text: 'a1', start: 0, end: 3 },
    { text: 'b2 spans reads', start: 3, end: 19 },
  ]);
  assert.deepEqual(
    decoded.map((l) => [l.text, l.start, l.end, l.truncated, l.partial]),
    [
      ['a1', 0, 3, false, false],
      ['b3 is far longer', 19, 55, true, false],
      ['b4 unfinished', 55, 68, false, true],
    ],
  );
});

test('after a partial line was handed out, the rest of that line comes marked as its tail, not offered as bytes', () => {
  const lines: Line[] = [];
  const offered: number[] = [];
  const splitter = new LineSplitter(1024, (l) => lines.push(l), 0, (_b, _f, _t, start) => (offered.push(start), false));
  splitter.push(Buffer.from('ab\ncd'));
  splitter.flushPartial();
  splitter.push(Buffer.from('ef'));
  splitter.flushPartial(); // the writer stopped again mid-line: this piece is both a partial line and a tail
  splitter.push(Buffer.from('gh\nij\n'));
  assert.deepEqual(
    lines.map((l) => [l.text, l.start, l.end, l.partial, l.partialTail]),
    [
      ['ab', 0, 3, false, false],
      ['cd', 3, 5, true, false],
      ['ef', 5, 7, true, true],
      ['gh', 7, 10, false, true],
      ['ij', 10, 13, false, false],
    ],
  );
  assert.deepEqual(offered, [0, 10], 'a tail is decoded for the parser, never taken as bytes');
});
