/**
 * Properties of the line splitter (src/tail/lines.ts) on random bytes — text, CRLF, lone CRs, NUL, invalid UTF-8,
 * multi-byte characters — cut into random reads, including a cut at every position:
 *
 * - every byte pushed is in exactly one line: the lines' [start, end) tile the input without gap or overlap, and
 *   a byte that is not in a line's text is its newline, the CR before it, or the tail of a line marked truncated;
 * - a line does not depend on where the reads were cut: the same input gives the same lines however it is chunked;
 * - the read buffer may be reused as soon as push() returns.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { LineSplitter } from '../../src/tail/lines.js';
import type { Line } from '../../src/parse/types.js';
import { chunks, cuts, logBytes, rawCuts } from '../support/bytes-arbitrary.js';

interface Out {
  readonly text: string;
  readonly start: number;
  readonly end: number;
  readonly truncated: boolean;
  readonly invalidUtf8: boolean;
  readonly partial: boolean;
  /** Offered to takeBytes and taken: the bytes it was offered. */
  readonly taken?: Buffer;
}

/**
 * Pushes `parts` through a splitter the way the parse thread does — each read copied into one shared buffer that is
 * scribbled over after push() — checking consumed/position/hasPartial after each push, then flushes the partial line.
 */
function split(parts: Buffer[], max: number, start: number, take: ((b: Buffer) => boolean) | null = null): Out[] {
  const out: Out[] = [];
  const onLine = ({ text, start: s, end, truncated, invalidUtf8, partial }: Line): void => void out.push({ text, start: s, end, truncated, invalidUtf8, partial });
  const takeBytes = take === null ? null : (buf: Buffer, from: number, to: number, s: number, e: number): boolean => {
    const bytes = Buffer.from(buf.subarray(from, to));
    if (!take(bytes)) return false;
    out.push({ text: '', start: s, end: e, truncated: false, invalidUtf8: false, partial: false, taken: bytes });
    return true;
  };
  const splitter = new LineSplitter(max, onLine, start, takeBytes);
  const shared = Buffer.alloc(Math.max(1, ...parts.map((p) => p.length)));
  let pushed = 0;
  for (const p of parts) {
    p.copy(shared);
    splitter.push(shared, p.length);
    shared.fill(0x5a); // the next read overwrites it: nothing may still point into it
    pushed += p.length;
    assert.equal(splitter.position, start + pushed, 'position: the next byte expected');
    const consumed = out.length === 0 ? start : out.at(-1)!.end;
    assert.equal(splitter.consumed, consumed, 'consumed: just past the last line handed out');
    assert.equal(splitter.hasPartial(), consumed < start + pushed);
  }
  splitter.flushPartial();
  return out;
}

/** What a line of these bytes must be: the model the splitter is checked against. */
function expectedLines(bytes: Buffer, max: number, start: number): Out[] {
  const out: Out[] = [];
  let from = 0;
  while (from < bytes.length) {
    const nl = bytes.indexOf(0x0a, from);
    const partial = nl === -1;
    const stop = partial ? bytes.length : nl;
    let body = bytes.subarray(from, stop);
    // A CR before the newline is part of the line ending; a last line flushed without newline keeps it.
    if (!partial && body.length > 0 && body[body.length - 1] === 0x0d) body = body.subarray(0, -1);
    const truncated = body.length > max;
    out.push({
      text: truncated ? '' : body.toString('utf8'), // a truncated line's text is checked apart (see truncatedText)
      start: start + from,
      end: start + (partial ? stop : stop + 1),
      truncated,
      invalidUtf8: !truncated && !isUtf8(body),
      partial,
    });
    from = partial ? stop : stop + 1;
  }
  return out;
}

/** A truncated line's text: the line's first bytes, at most max of them, cut on a character boundary (at most 3 short). */
function truncatedTextOk(text: string, bytes: Buffer, line: Out, max: number, start: number): boolean {
  const body = bytes.subarray(line.start - start);
  for (let k = max; k >= Math.max(0, max - 3); k--) {
    if (body.subarray(0, k).toString('utf8') === text) return true;
  }
  return false;
}

/** Lines compared on everything but the text of truncated lines, which truncatedTextOk checks. */
function comparable(lines: Out[]): Omit<Out, 'taken'>[] {
  return lines.map(({ taken: _t, ...l }) => (l.truncated ? { ...l, text: '', invalidUtf8: false } : l));
}

const maxLine = fc.oneof(fc.integer({ min: 1, max: 16 }), fc.constant(1024 * 1024));

test('every byte is in exactly one line, and each line is what its bytes say, however the reads are cut', () => {
  fc.assert(
    fc.property(logBytes(), rawCuts, maxLine, fc.nat({ max: 1_000_000 }), (bytes, raw, max, start) => {
      const lines = split(chunks(bytes, cuts(bytes.length, raw)), max, start);
      // Tiling: contiguous from `start` to the end of the input.
      let at = start;
      for (const l of lines) {
        assert.equal(l.start, at, 'no gap, no overlap');
        assert.ok(l.end > l.start, 'no empty range');
        at = l.end;
      }
      assert.equal(at, start + bytes.length, 'every byte is in a line');
      const got = lines;
      assert.deepEqual(comparable(got), comparable(expectedLines(bytes, max, start)));
      for (const l of got) {
        if (l.truncated) assert.ok(truncatedTextOk(l.text, bytes, l, max, start), `truncated text is the line's first bytes: ${JSON.stringify(l.text)}`);
      }
    }),
    { numRuns: 500 },
  );
});

test('a line cut at every possible read boundary comes out the same as read whole', () => {
  fc.assert(
    fc.property(logBytes(40), maxLine, (bytes, max) => {
      const whole = split([bytes], max, 0);
      for (let i = 0; i <= bytes.length; i++) {
        assert.deepEqual(split([bytes.subarray(0, i), bytes.subarray(i)], max, 0), whole, `cut at ${i}`);
      }
    }),
    { numRuns: 200 },
  );
});

test('lines taken as bytes (takeBytes) and lines decoded together still cover every byte once', () => {
  fc.assert(
    fc.property(logBytes(), rawCuts, maxLine, fc.integer({ min: 0, max: 3 }), (bytes, raw, max, every) => {
      let n = 0;
      const lines = split(chunks(bytes, cuts(bytes.length, raw)), max, 0, () => every > 0 && n++ % (every + 1) === 0);
      let at = 0;
      for (const l of lines) {
        assert.equal(l.start, at);
        at = l.end;
        if (l.taken === undefined) continue;
        // Offered exactly the line's bytes without its ending, and never a line that needed truncating.
        let body = bytes.subarray(l.start, l.end - 1);
        if (body.length > 0 && body[body.length - 1] === 0x0d) body = body.subarray(0, -1);
        assert.deepEqual(l.taken, body);
        assert.ok(l.taken.length <= max);
      }
      assert.equal(at, bytes.length);
    }),
    { numRuns: 300 },
  );
});

test(
  'a line of exactly max_line_bytes ending in CRLF is not truncated, however the reads are cut (found by the properties above)',
  () => {
    // "abcd\r\n" with max_line_bytes 4: read whole, "abcd" untruncated; read as "abcd" + "\r\n" it was marked
    // truncated (the held CR was counted against the limit).
    const bytes = Buffer.from('abcd\r\n');
    for (const at of [4, 5]) {
      const lines = split([bytes.subarray(0, at), bytes.subarray(at)], 4, 0);
      assert.deepEqual(lines, split([bytes], 4, 0), `cut at ${at}`);
      assert.deepEqual(lines.map((l) => [l.text, l.truncated]), [['abcd', false]]);
    }
  },
);
