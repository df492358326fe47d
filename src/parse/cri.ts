/**
 * The CRI log format (containerd, CRI-O: Kubernetes since 1.24) → records. See cri-line.ts for the line format.
 *
 * A line longer than the runtime's limit (16 KiB in containerd) is written as P pieces and an F piece; stdout and
 * stderr pieces interleave, so they are joined per stream, like Docker's. The runtime cuts at a byte count, in the
 * middle of a UTF-8 character as often as not, so pieces are kept as bytes and the joined line is decoded once: the
 * parser takes lines as bytes (pushBytes) when they are, or continue, pieces. A completed line goes to its stream's
 * Django parser in 'stream' mode, as Docker's do: Django JSON and text records inside the output are recognised, and
 * traceback lines are joined to their record. The line's own time is the record's @timestamp.
 *
 * The container's facts (Kubernetes namespace, pod, container; see src/containers/) come with the ParserContext and
 * are made into JSON text once per parser.
 *
 * Pieces held at the end of a file are handed to the parser of the file that continues it (kubelet renames
 * `0.log` to `0.log.20261205-100000` and the runtime goes on in a new `0.log`, maybe in the middle of a line):
 * exportCarried() / importCarried(), when the tailer hands a rotated generation over (see tail/carried.ts).
 */
import { isUtf8 } from 'node:buffer';
import { containerMembers } from '../containers/metadata.js';
import { createDjangoParser, LINE_INVALID_UTF8, LINE_PARTIAL, LINE_TRUNCATED, lineFlags, truncateUtf8, type DjangoParser } from './django.js';
import { DocumentFields, DocumentWriter, ParsedRecord, quote, REC_NO_TIMESTAMP, REC_PARSE_ERROR } from './document.js';
import { CriLineReader } from './cri-line.js';
import type { CarriedPieces, EmitRecord, Line, ParserContext, RecordParser } from './types.js';
import { CarriedLines } from './carried-lines.js';
import { PieceHolder } from './piece-holder.js';

/** A CRI parser: it hands a line's first pieces over to the next generation of its file, and takes them from the previous. */
export interface CriParser extends RecordParser {
  exportCarried(): CarriedPieces[];
  importCarried(carried: CarriedPieces, link: number, localStart: number): void;
}

/** One stream's pieces, as bytes (a line is decoded once, when it is whole). */
class Pieces extends PieceHolder {
  private chunks: Buffer[] = [];

  protected clearContent(): void {
    this.chunks = [];
  }

  /** A piece of this file: its content bytes buf[from, to) are copied (buf is a shared read buffer). */
  add(buf: Buffer | Uint8Array, from: number, to: number, end: number, flags: number, nowMs: number, maxBytes: number): void {
    this.arrived(end, flags, nowMs);
    this.append(buf, from, to, maxBytes);
  }

  append(buf: Buffer | Uint8Array, from: number, to: number, maxBytes: number): void {
    if (this.capped || to <= from) return;
    let take = to - from;
    if (this.bytes + take > maxBytes) {
      take = utf8Boundary(buf, from + (maxBytes - this.bytes), from) - from;
      this.capped = true;
      this.flags |= LINE_TRUNCATED;
    }
    this.chunks.push(Buffer.from(buf.subarray(from, from + take)));
    this.bytes += take;
  }

  /** The joined text, without a trailing "\r"; adds LINE_INVALID_UTF8 to flags when its bytes were not UTF-8. */
  take(): string {
    this.active = false;
    const joined = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.bytes);
    this.chunks = [];
    let text = joined.toString('utf8');
    if (text.includes('\uFFFD') && !isUtf8(joined)) this.flags |= LINE_INVALID_UTF8;
    if (text.charCodeAt(text.length - 1) === 13) text = text.slice(0, -1);
    return text;
  }

  /** Hands the pieces over to the next generation of the file; empties the holder. */
  export(index: number): CarriedPieces {
    return this.carried(index, new Uint8Array(Buffer.concat(this.chunks, this.bytes)));
  }

  /** Goes on with pieces the previous generation began; this file's part starts at `localStart`. */
  import(carried: CarriedPieces, link: number, localStart: number, maxBytes: number): void {
    this.continueFrom(carried, link, localStart);
    const content = typeof carried.content === 'string' ? Buffer.from(carried.content) : carried.content;
    this.append(content, 0, content.length, maxBytes);
    this.capped ||= carried.capped;
  }
}

/** The largest end <= limit that does not cut a UTF-8 sequence (as in tail/lines.ts). */
function utf8Boundary(buf: Uint8Array, limit: number, floor: number): number {
  let lead = limit - 1;
  while (lead > floor && ((buf[lead] ?? 0) & 0xc0) === 0x80) lead--;
  const b = buf[lead] ?? 0;
  const length = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
  return lead + length > limit ? lead : limit;
}

class CriRecordParser implements CriParser {
  private readonly stdout: DjangoParser;
  private readonly stderr: DjangoParser;
  private readonly outPieces = new Pieces();
  private readonly errPieces = new Pieces();
  private readonly reader = new CriLineReader();
  /** Latest time seen, for a line too broken to have one. */
  private lastTs: string | null = null;
  private readonly brokenWriter: DocumentWriter;
  private readonly brokenFields = new DocumentFields();
  /** Lines whose first pieces came from the previous generation of the file. */
  private readonly carriedLines = new CarriedLines();

  constructor(
    private readonly ctx: ParserContext,
    private readonly emit: EmitRecord,
  ) {
    // The container's members are made into JSON text once per parser, not per line.
    const container = containerMembers(ctx.container);
    this.stdout = createDjangoParser(ctx, (r) => emit(this.carriedLines.relink(0, r)), 'stream', `,"stream":"stdout"${container}`);
    this.stderr = createDjangoParser(ctx, (r) => emit(this.carriedLines.relink(1, r)), 'stream', `,"stream":"stderr"${container}`);
    this.brokenWriter = new DocumentWriter(ctx.path, ctx.hostName, container);
  }

  /**
   * A line as bytes: taken when it is a piece, or ends a line in pieces (its content joins the others undecoded);
   * anything else — most lines: whole, or not CRI — is left to push(), which decodes it once.
   */
  pushBytes(buf: Buffer, from: number, to: number, start: number, end: number, nowMs = 0): boolean {
    // Per line: three byte searches over the line's first ~40 bytes; a whole line is then decoded and read again by
    // push(), which is what it would cost without this (pieces are rare, and only they must stay bytes).
    const r = this.reader;
    if (!r.readBytes(buf, from, to)) return false;
    const pieces = r.stderr ? this.errPieces : this.outPieces;
    if (!r.partial && !pieces.active) return false;
    if (!r.readTime(buf)) return false; // push() ships it as a broken line
    this.lastTs = r.time;
    this.piece(pieces, r.stderr, buf, r.contentAt, to, start, end, 0, nowMs);
    return true;
  }

  push(line: Line, nowMs: number): void {
    const r = this.reader;
    const text = line.text;
    if (!r.read(text)) {
      this.emitBroken(line, nowMs);
      return;
    }
    this.lastTs = r.time;
    const pieces = r.stderr ? this.errPieces : this.outPieces;
    if (r.partial || pieces.active) {
      // A piece that came decoded (it spanned two reads, or was cut at max_line_bytes): back to bytes to join.
      const content = Buffer.from(text.slice(r.contentAt));
      this.piece(pieces, r.stderr, content, 0, content.length, line.start, line.end, lineFlags(line), nowMs);
      return;
    }
    // The common case: a whole line in one entry.
    let content = r.contentAt === 0 ? text : text.slice(r.contentAt);
    let flags = lineFlags(line);
    const max = this.ctx.maxRecordBytes;
    if (content.length * 3 > max && Buffer.byteLength(content) > max) {
      content = truncateUtf8(content, max);
      flags |= LINE_TRUNCATED;
    }
    (r.stderr ? this.stderr : this.stdout).pushText(content, line.start, line.end, flags, nowMs, r.time);
  }

  /** A P piece starts or continues its stream's line; an F piece ends it and hands the joined line on. */
  private piece(
    pieces: Pieces,
    stderr: boolean,
    buf: Buffer | Uint8Array,
    from: number,
    to: number,
    start: number,
    end: number,
    flags: number,
    nowMs: number,
  ): void {
    const max = this.ctx.maxRecordBytes;
    if (!pieces.active) pieces.begin(start, this.reader.time);
    pieces.add(buf, from, to, end, flags, nowMs, max);
    if (this.reader.partial) return;
    this.pushPieces(stderr ? 1 : 0, pieces, pieces.flags, nowMs);
  }

  /** The joined pieces go to the stream's Django parser, as one line that began where the first piece did. */
  private pushPieces(index: number, pieces: Pieces, flags: number, nowMs: number): void {
    this.carriedLines.note(index, pieces.idStart, pieces.start, pieces.link);
    const { idStart, end, time } = pieces;
    const text = pieces.take();
    (index === 1 ? this.stderr : this.stdout).pushText(text, idStart, end, flags | pieces.flags, nowMs, time);
  }

  flush(nowMs: number, force: boolean): void {
    this.flushPieces(0, this.outPieces, nowMs, force);
    this.flushPieces(1, this.errPieces, nowMs, force);
    this.stdout.flush(nowMs, force);
    this.stderr.flush(nowMs, force);
  }

  /**
   * A line whose last piece did not come in time (a container that stopped mid-line) is shipped as it is, tagged,
   * pushed with the time its last piece arrived so that the Django parser's own timeout lets it out in this flush.
   */
  private flushPieces(index: number, pieces: Pieces, nowMs: number, force: boolean): void {
    if (!pieces.active || (!force && nowMs - pieces.lastMs < this.ctx.multilineTimeoutMs)) return;
    this.pushPieces(index, pieces, LINE_PARTIAL, pieces.lastMs);
  }

  heldFrom(): number | null {
    let min: number | null = null;
    const out = this.outPieces;
    const err = this.errPieces;
    if (out.active) min = out.start;
    if (err.active && (min === null || err.start < min)) min = err.start;
    const a = this.carriedLines.localHeld(0, this.stdout.heldFrom());
    if (a !== null && (min === null || a < min)) min = a;
    const b = this.carriedLines.localHeld(1, this.stderr.heldFrom());
    if (b !== null && (min === null || b < min)) min = b;
    return min;
  }

  exportCarried(): CarriedPieces[] {
    const out: CarriedPieces[] = [];
    if (this.outPieces.active) out.push(this.outPieces.export(0));
    if (this.errPieces.active) out.push(this.errPieces.export(1));
    return out;
  }

  importCarried(carried: CarriedPieces, link: number, localStart: number): void {
    const pieces = carried.index === 1 ? this.errPieces : this.outPieces;
    pieces.import(carried, link, localStart, this.ctx.maxRecordBytes);
  }

  /** A line that is not CRI (cut, corrupt): a record of its own, the raw line as message, tagged. */
  private emitBroken(line: Line, nowMs: number): void {
    const ts = this.lastTs ?? new Date(nowMs).toISOString();
    const f = this.brokenFields.reset(ts, quote(line.text), line.start, REC_PARSE_ERROR | REC_NO_TIMESTAMP | lineFlags(line));
    if (this.ctx.includeOriginal) f.originalJson = f.messageJson;
    this.emit(new ParsedRecord(line.start, line.end, this.brokenWriter.write(f), f.flags));
  }
}

/** A parser for one CRI log file; its container facts come with `ctx.container`. */
export function createCriParser(ctx: ParserContext, emit: EmitRecord): CriParser {
  return new CriRecordParser(ctx, emit);
}
