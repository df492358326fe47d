/**
 * The records the parse worker finished, handed on in emission order: each registered with its file's
 * acknowledgements with the offset that is safe to resume from once it and all before it are stored (worked out by
 * the worker: see ParseStream), then given to delivery — unless it was stored before a restart (acknowledged beyond
 * the checkpoint), which is acknowledged at once and not sent again. A record whose first pieces are in this file
 * and whose end is in the next generation (Docker pieces split by a rotation) is handed over: see carried.ts.
 */
import {
  ADVANCE_ROW,
  CARRY_ROW,
  ROW_AT,
  ROW_CHUNK,
  ROW_END,
  ROW_FIELDS,
  ROW_FRAME,
  ROW_LENGTH,
  ROW_LINK,
  ROW_SAFE,
  ROW_START,
} from '../parse-thread/protocol.js';
import type { ParsedChunk } from '../parse-thread/thread.js';
import type { TrackedFile } from './file.js';
import type { TrackedFileDeps } from './file-deps.js';
import type { FileProgress } from './progress.js';

export function handOnRows(
  parsed: ParsedChunk,
  file: TrackedFile,
  progress: FileProgress,
  deps: Pick<TrackedFileDeps, 'emit' | 'carried'>,
  framesValid = true,
): void {
  const rows = parsed.rows;
  const { acks } = progress;
  for (let o = 0; o < parsed.rowCount * ROW_FIELDS; o += ROW_FIELDS) {
    const chunkId = rows[o + ROW_CHUNK]!;
    if (chunkId === ADVANCE_ROW) {
      acks.advance(rows[o + ROW_SAFE]!);
      continue;
    }
    const start = rows[o + ROW_START]!;
    const end = rows[o + ROW_END]!;
    if (chunkId === CARRY_ROW) {
      // The first pieces of a record that goes on in the successor: it holds this file's checkpoint until stored.
      const seq = acks.register(rows[o + ROW_SAFE]!, start, end);
      deps.carried!.begin(rows[o + ROW_AT]!, file, seq, start, rows[o + ROW_LINK]!);
      continue;
    }
    const seq = acks.register(rows[o + ROW_SAFE]!, start, end);
    const chunk = parsed.chunk(chunkId);
    if (progress.storedBefore(start, end)) {
      // Stored before the restart (acknowledged beyond the checkpoint): not sent again.
      chunk.release();
      acks.ack(seq);
      continue;
    }
    const link = rows[o + ROW_LINK]!;
    if (link === 0) {
      deps.emit(file, start, end, seq, chunk, rows[o + ROW_AT]!, rows[o + ROW_LENGTH]!, framesValid ? rows[o + ROW_FRAME]! : 0);
    } else {
      // Begun in the previous generation: its id is that file's and offset there (see carried.ts).
      const source = deps.carried!.end(link, file);
      // Not framed: the worker frames no record begun elsewhere (its head would name this file's offset).
      deps.emit(source, source.start < 0 ? start : source.start, end, seq, chunk, rows[o + ROW_AT]!, rows[o + ROW_LENGTH]!, 0);
    }
  }
}
