/**
 * A file's bytes through the parse thread's own per-file code (ParseStream: line splitter, bytes offered to the
 * parser first, parser, resume offsets, documents written into chunks), read `readSize` bytes at a time through a
 * real descriptor, as the worker reads them. For parser tests that must see what the agent sees.
 */
import { closeSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ParseStream } from '../../src/parse-thread/stream.js';
import { ChunkStore, ReplyWriter, RowsPool } from '../../src/parse-thread/reply-writer.js';
import { ADVANCE_ROW, ROW_AT, ROW_CHUNK, ROW_END, ROW_FIELDS, ROW_LENGTH, ROW_SAFE, ROW_START, type ParsedReply } from '../../src/parse-thread/protocol.js';
import type { ParserType } from '../../src/parse/index.js';
import type { ParserContext } from '../../src/parse/types.js';
import type { EcsDocument } from '../../src/record.js';
import { tempDir } from './agent.js';

export interface ParsedRow {
  readonly start: number;
  readonly end: number;
  /** The offset the checkpoint may move to once this record and those before it are stored. */
  readonly safe: number;
  readonly doc: EcsDocument;
}

export interface ParsedFile {
  readonly rows: ParsedRow[];
  /** heldFrom after each read (-1: nothing held). */
  readonly held: number[];
}

/** The record rows of a reply (rows that only advance the safe offset left out), their documents as JSON text. */
export function replyRecords(store: ChunkStore, reply: ParsedReply): { start: number; end: number; safe: number; json: string }[] {
  const out = [];
  for (let o = 0; o < reply.rowCount * ROW_FIELDS; o += ROW_FIELDS) {
    const chunk = reply.rows[o + ROW_CHUNK]!;
    if (chunk === ADVANCE_ROW) continue;
    const at = reply.rows[o + ROW_AT]!;
    const json = store.buffer(chunk).toString('utf8', at, at + reply.rows[o + ROW_LENGTH]!);
    out.push({ start: reply.rows[o + ROW_START]!, end: reply.rows[o + ROW_END]!, safe: reply.rows[o + ROW_SAFE]!, json });
  }
  return out;
}

function rowsOf(store: ChunkStore, reply: ParsedReply): ParsedRow[] {
  return replyRecords(store, reply).map(({ start, end, safe, json }) => ({ start, end, safe, doc: JSON.parse(json) as EcsDocument }));
}

/** Parses `bytes` as a file of input type `type`; at the end, what is held is flushed (`flushAt`: the clock then). */
export function parseFile(
  type: ParserType,
  ctx: ParserContext,
  bytes: Buffer,
  opts: { readSize?: number; now?: number; flushAt?: number; maxLineBytes?: number } = {},
): ParsedFile {
  const dir = tempDir('logship-parse-');
  const path = join(dir, 'log');
  writeFileSync(path, bytes);
  const fd = openSync(path, 'r');
  try {
    const store = new ChunkStore();
    const out = new ReplyWriter(store, new RowsPool());
    const stream = new ParseStream(type, ctx, opts.maxLineBytes ?? 1 << 20, 0, out);
    const buffer = Buffer.alloc(opts.readSize ?? 1 << 20);
    const now = opts.now ?? Date.UTC(2026, 11, 5, 10, 0, 1);
    const rows: ParsedRow[] = [];
    const held: number[] = [];
    let request = 0;
    for (;;) {
      const { bytesRead, lines } = stream.read(fd, buffer, buffer.length, now);
      const { reply } = out.finish(++request, bytesRead, lines, stream.state);
      rows.push(...rowsOf(store, reply));
      held.push(stream.state.heldFrom);
      if (bytesRead === 0) break;
    }
    stream.flush(true, true, opts.flushAt ?? now);
    rows.push(...rowsOf(store, out.finish(++request, 0, 0, stream.state).reply));
    return { rows, held };
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}
