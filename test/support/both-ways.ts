/**
 * A log read the two ways the parse thread can read it, for tests that compare them: every line decoded and pushed
 * (the string way), and every whole line offered as bytes first (RecordParser.pushBytes), documents written in place
 * into a buffer as the parse thread's chunks are. A byte way must give the string way's records, line for line.
 */
import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
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

/**
 * How the data arrives: in reads of these sizes (in turn), the clock moving `stepMs` after each read, and the
 * parsers' timeouts looked at then (flush, not forced), as the parse thread does between reads.
 */
export interface Arrival {
  readonly reads: readonly number[];
  readonly stepMs: number;
}

/** The records of `data` read both ways, and how many lines the byte way took. */
export function readBothWays(
  data: Buffer,
  makeParser: MakeParser,
  now: number,
  arrival: Arrival = { reads: [data.length], stepMs: 0 },
): { strings: Emitted[]; bytes: Emitted[]; taken: number } {
  const record = (to: Emitted[]) => (r: ParsedRecord) => to.push({ start: r.start, end: r.end, flags: r.flags, json: r.json });
  /**
   * Feeds `data` to a splitter as it arrives, then flushes everything. Each read goes into the same buffer, written
   * over with garbage once the splitter and the parser are done with it (detach), as the parse thread reuses its read
   * buffer: a parser that kept a reference into it past detach() reads garbage.
   */
  let clock = now;
  const readBuffer = Buffer.alloc(Math.max(...arrival.reads, 1));
  const feed = (parser: RecordParser, splitter: LineSplitter): void => {
    clock = now;
    for (let at = 0, i = 0; at < data.length; i++) {
      const size = Math.min(Math.max(1, arrival.reads[i % arrival.reads.length]!), data.length - at);
      data.copy(readBuffer, 0, at, at + size);
      splitter.push(readBuffer.subarray(0, size));
      parser.detach?.();
      readBuffer.fill(0x23);
      at += size;
      clock += arrival.stepMs;
      if (arrival.stepMs > 0) parser.flush(clock, false);
    }
    splitter.flushPartial();
    parser.flush(clock, true);
  };

  const strings: Emitted[] = [];
  const byString = makeParser(record(strings), null);
  feed(byString, new LineSplitter(1 << 20, (line) => byString.push(line, clock), 0));

  const bytes: Emitted[] = [];
  // Garbage-filled, so that a byte a writer forgot to write shows.
  const out = Buffer.alloc(data.length * 4 + 4096, 0x23);
  let used = 0;
  let placed = { at: 0, length: 0, start: -1 };
  const placement: DocumentPlacement = {
    place(length, start) {
      placed = { at: used, length, start };
      used += length;
      return { buffer: out, at: placed.at };
    },
    written(start, end, flags, length = placed.length) {
      assert.ok(length <= placed.length, `wrote ${length} bytes in room for ${placed.length}`);
      // The start given with the room is the record's: the sink's item head written before it names that offset.
      assert.equal(placed.start, start, `room placed for a record at ${placed.start}, written for one at ${start}`);
      used = placed.at + length;
      // A document is valid UTF-8 (decoding below would hide a raw invalid byte behind U+FFFD).
      assert.ok(isUtf8(out.subarray(placed.at, placed.at + length)), `a document of invalid UTF-8 for bytes ${start}-${end}`);
      bytes.push({ start, end, flags, json: out.toString('utf8', placed.at, placed.at + length) });
    },
  };
  const byBytes = makeParser(record(bytes), placement);
  let taken = 0;
  const splitter = new LineSplitter(
    1 << 20,
    (line) => byBytes.push(line, clock),
    0,
    (buf, from, to, start, end) => {
      const took = byBytes.pushBytes!(buf, from, to, start, end, clock);
      if (took) taken++;
      return took;
    },
  );
  feed(byBytes, splitter);
  return { strings, bytes, taken };
}
