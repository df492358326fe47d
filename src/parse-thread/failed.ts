/**
 * The last line of defence of the parse thread: when a parser throws on a line (a bug, or an input no test
 * foresaw — a JSON line nested 20,000 deep once overflowed the stack), the line is not fatal. Its bytes become a
 * record of their own, the line's text as message, tagged `_logship_parse_error` (and `_logship_timestamp_missing`:
 * nothing was read from it), and the failure is reported with the reply for the agent's log (see ParseStream).
 */
import { DocumentFields, DocumentWriter, ParsedRecord, quote, REC_NO_TIMESTAMP, REC_PARSE_ERROR } from '../parse/document.js';
import { containerIdFromPath } from '../parse/docker.js';
import type { ParserType } from '../parse/index.js';
import type { ParserContext } from '../parse/types.js';

/** What a parser threw, as one short line for the agent's log. */
export function describeThrown(err: unknown): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

/** Writes the records that stand for bytes a parser failed on, for one file. */
export class FailedLineRecords {
  private writer: DocumentWriter | null = null;
  private readonly fields = new DocumentFields();

  constructor(
    private readonly type: ParserType,
    private readonly ctx: ParserContext,
  ) {}

  /** The record of bytes [start, end): `text` as its message, `flags` (LINE_* bits) plus the parse-error tags. */
  record(start: number, end: number, text: string, flags: number, nowMs: number): ParsedRecord {
    // Made on first use: nearly every file never needs it.
    this.writer ??= new DocumentWriter(this.ctx.path, this.ctx.hostName, this.decoration());
    const f = this.fields.reset(new Date(nowMs).toISOString(), quote(text), start, flags | REC_PARSE_ERROR | REC_NO_TIMESTAMP);
    if (this.ctx.includeOriginal) f.originalJson = f.messageJson;
    return new ParsedRecord(start, end, this.writer.write(f), f.flags);
  }

  /** A Docker file's records name their container, as the Docker parser's own do. */
  private decoration(): string {
    const id = this.type === 'docker' ? containerIdFromPath(this.ctx.path) : null;
    return id === null ? '' : `,"container":{"id":${quote(id)}}`;
  }
}
