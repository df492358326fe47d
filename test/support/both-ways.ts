/**
 * A log read the two ways the parse thread can read it, for tests that compare them: every line decoded and pushed
 * (the string way), and every whole line offered as bytes first (RecordParser.pushBytes), documents written in place
 * into a buffer as the parse thread's chunks are. A byte way must give the string way's records, line for line.
 */
import assert from 'node:assert/strict';
import type { DocumentPlacement, ParsedRecord } from '../../src/parse/document.js';
import type { RecordParser } from '../../src/parse/types.js';
import { LineSplitter } from '../../src/tail/lines.js';

export interface Emitted {
  start: number;
  end: number;
  flags: number;
  json: string;
}

/** Makes a parser that emits to `emit`; with a placement, one that may take lines as bytes. */
export type MakeParser = (emit: (r: ParsedRecord) => void, placement: DocumentPlacement | null) => RecordParser;

/** The records of `data` read both ways, and how many lines the byte way took. */
export function readBothWays(data: Buffer, makeParser: MakeParser, now: number): { strings: Emitted[]; bytes: Emitted[]; taken: number } {
  const record = (to: Emitted[]) => (r: ParsedRecord) => to.push({ start: r.start, end: r.end, flags: r.flags, json: r.json });

  const strings: Emitted[] = [];
  const byString = makeParser(record(strings), null);
  const plain = new LineSplitter(1 << 20, (line) => byString.push(line, now), 0);
  plain.push(data);
  plain.flushPartial();
  byString.flush(now, true);

  const bytes: Emitted[] = [];
  // Garbage-filled, so that a byte a writer forgot to write shows.
  const out = Buffer.alloc(data.length * 4 + 4096, 0x23);
  let used = 0;
  let placed = { at: 0, length: 0 };
  const placement: DocumentPlacement = {
    place(length) {
      placed = { at: used, length };
      used += length;
      return { buffer: out, at: placed.at };
    },
    written(start, end, flags, length = placed.length) {
      assert.ok(length <= placed.length, `wrote ${length} bytes in room for ${placed.length}`);
      used = placed.at + length;
      bytes.push({ start, end, flags, json: out.toString('utf8', placed.at, placed.at + length) });
    },
  };
  const byBytes = makeParser(record(bytes), placement);
  let taken = 0;
  const splitter = new LineSplitter(
    1 << 20,
    (line) => byBytes.push(line, now),
    0,
    (buf, from, to, start, end) => {
      const took = byBytes.pushBytes!(buf, from, to, start, end, now);
      if (took) taken++;
      return took;
    },
  );
  splitter.push(data);
  splitter.flushPartial();
  byBytes.flush(now, true);
  return { strings, bytes, taken };
}
