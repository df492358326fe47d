/**
 * Docker's json-file driver → records.
 *
 * Each line of /var/lib/docker/containers/<id>/<id>-json.log is one JSON entry:
 *   {"log":"text\n","stream":"stdout","time":"2026-11-27T12:00:00.123456789Z"}
 * Docker cuts lines longer than 16 KiB into pieces; every piece but the last has a `log` without the trailing "\n".
 * Pieces of stdout and stderr interleave, so they are joined per stream. A completed line goes to that stream's own
 * Django parser in 'stream' mode, which recognises Django JSON and text records inside the container output and joins
 * traceback lines (each its own Docker entry) to the record they belong to.
 *
 * Docker's `time` is the record's @timestamp: it is UTC and unambiguous, unlike a zone-less asctime.
 */

import { createDjangoParser, LINE_PARTIAL, LINE_TRUNCATED, lineFlags, truncateUtf8, type DjangoParser } from './django.js';
import { DocumentFields, DocumentWriter, ParsedRecord, quote, REC_NO_TIMESTAMP, REC_PARSE_ERROR, type DocumentPlacement } from './document.js';
import { plainEntryAt } from './docker-bytes.js';
import { digitCount, writeDigits } from './digits.js';
import { isoFromDocker } from './time.js';
import { JSON_STRING, ScannedObject } from './json-members.js';
import type { EmitRecord, Line, ParserContext, RecordParser } from './types.js';

/** ".../<id>/<id>-json.log" and its rotations ("-json.log.1"); the id is 64 lowercase hex digits. */
const CONTAINER_LOG_RE = /(?:^|\/)([0-9a-f]{64})-json\.log(?:\.\d+)?$/;

/** The container id in a json-file log path, or null when the path is not one. */
export function containerIdFromPath(path: string): string | null {
  const m = CONTAINER_LOG_RE.exec(path);
  return m === null ? null : m[1]!;
}

/** The pieces of one stream's line that Docker split, waiting for the piece that ends in "\n". */
class Pieces {
  active = false;
  start = 0;
  end = 0;
  text = '';
  /** UTF-8 bytes of `text`. */
  bytes = 0;
  capped = false;
  flags = 0;
  /** Docker time of the first piece: when the line began. */
  time: string | null = null;
  /** When the last piece arrived: the partial timeout counts from there. */
  lastMs = 0;

  begin(start: number, time: string | null): void {
    this.active = true;
    this.start = start;
    this.text = '';
    this.bytes = 0;
    this.capped = false;
    this.flags = 0;
    this.time = time;
  }

  /** Adds a piece's text, up to maxBytes in all; past that only the byte range grows. */
  add(piece: string, end: number, flags: number, nowMs: number, maxBytes: number): void {
    this.end = end;
    this.lastMs = nowMs;
    this.flags |= flags;
    if (this.capped || piece.length === 0) return;
    const bytes = Buffer.byteLength(piece);
    if (this.bytes + bytes > maxBytes) {
      piece = truncateUtf8(piece, maxBytes - this.bytes);
      this.capped = true;
      this.flags |= LINE_TRUNCATED;
      this.text += piece;
      this.bytes = maxBytes;
      return;
    }
    this.text += piece;
    this.bytes += bytes;
  }

  /** The joined text, without a trailing "\r"; empties the holder. */
  take(): string {
    this.active = false;
    let text = this.text;
    this.text = '';
    if (text.charCodeAt(text.length - 1) === 13) text = text.slice(0, -1);
    return text;
  }
}

interface DockerEntry {
  log: string;
  stream?: unknown;
  time?: unknown;
}

/** Parses a json-file line; null when it is not JSON or has no string `log`. */
function parseEntry(text: string): DockerEntry | null {
  if (text.charCodeAt(0) !== 123 /* { */) return null;
  try {
    const v: unknown = JSON.parse(text);
    if (v === null || typeof v !== 'object' || typeof (v as DockerEntry).log !== 'string') return null;
    return v as DockerEntry;
  } catch {
    return null;
  }
}

class DockerRecordParser implements RecordParser {
  private readonly stdout: DjangoParser;
  private readonly stderr: DjangoParser;
  private readonly outPieces = new Pieces();
  private readonly errPieces = new Pieces();
  /** Latest Docker time seen, for an entry too broken to have one. */
  private lastTs: string | null = null;
  /** Documents of entries that are not Docker JSON: no stream, the container when known. */
  private readonly brokenWriter: DocumentWriter;
  private readonly brokenFields = new DocumentFields();
  /** The entry being pushed, read in place (reused). */
  private readonly scanned = new ScannedObject();

  /** Document parts for lines written from their bytes (pushBytes), per stream. */
  private readonly outTemplate: PlainTemplate;
  private readonly errTemplate: PlainTemplate;

  constructor(
    private readonly ctx: ParserContext,
    private readonly containerId: string | null,
    private readonly emit: EmitRecord,
    private readonly placement: DocumentPlacement | null = null,
  ) {
    // The decorations are made into JSON text once per parser, not per line.
    const container = containerId === null ? '' : `,"container":{"id":${JSON.stringify(containerId)}}`;
    const outDecoration = `,"stream":"stdout"${container}`;
    const errDecoration = `,"stream":"stderr"${container}`;
    this.stdout = createDjangoParser(ctx, emit, 'stream', outDecoration);
    this.stderr = createDjangoParser(ctx, emit, 'stream', errDecoration);
    this.brokenWriter = new DocumentWriter(ctx.path, ctx.hostName, container);
    // The same writer the stream's Django parser uses, so the bytes are the text it would make.
    this.outTemplate = new DocumentWriter(ctx.path, ctx.hostName, outDecoration).plainTemplate();
    this.errTemplate = new DocumentWriter(ctx.path, ctx.hostName, errDecoration).plainTemplate();
  }

  /**
   * A whole plain line taken from its bytes (see docker-bytes.ts), its document written in place: the record
   * pushPlainEntry would make from the line's text, without making the text. False when the line is anything else
   * or this parser holds something for its stream; the caller then decodes it for push().
   */
  pushBytes(buf: Buffer, from: number, to: number, start: number, end: number): boolean {
    const placement = this.placement;
    if (placement === null || this.ctx.includeOriginal) return false;
    const e = plainEntryAt(buf, from, to, this.ctx.maxRecordBytes);
    if (e === null || (e.stderr ? this.errPieces : this.outPieces).active) return false;
    const parser = e.stderr ? this.stderr : this.stdout;
    if (!parser.takesPlain(buf[e.logAt + 1]!)) return false;
    const ts = isoFromDocker(buf.toString('latin1', e.timeAt, e.timeEnd));
    if (ts === null) return false;
    const t = e.stderr ? this.errTemplate : this.outTemplate;
    // head + timestamp + `","message":` + the log JSON up to its final \n escape + `"` + log.file… + offset + tail
    const text = e.textEnd - e.logAt;
    const bytes = t.head.length + ts.length + t.message.length + text + 1 + t.logFile.length + digitCount(start) + t.tail.length;
    const { buffer, at } = placement.place(bytes);
    let p = at;
    buffer.set(t.head, p);
    p += t.head.length;
    p += buffer.write(ts, p, 'latin1');
    buffer.set(t.message, p);
    p += t.message.length;
    p += buf.copy(buffer, p, e.logAt, e.textEnd);
    buffer[p++] = 0x22; // "
    buffer.set(t.logFile, p);
    p = writeDigits(buffer, p + t.logFile.length, start);
    buffer.set(t.tail, p);
    this.lastTs = ts;
    parser.plainWritten(ts);
    placement.written(start, end, 0);
    return true;
  }

  push(line: Line, nowMs: number): void {
    // The rest of a line shipped at partial_line_timeout that is only its newline: nothing more to ship.
    if (line.partialTail === true && line.text.length === 0) return;
    if (this.scanned.scan(line.text) && this.pushPlainEntry(line, nowMs)) return;
    const entry = parseEntry(line.text);
    if (entry === null) {
      this.emitBroken(line, nowMs);
      return;
    }
    const isErr = entry.stream === 'stderr';
    const pieces = isErr ? this.errPieces : this.outPieces;
    const parser = isErr ? this.stderr : this.stdout;
    const time = typeof entry.time === 'string' ? isoFromDocker(entry.time) : null;
    if (time !== null) this.lastTs = time;
    const flags = lineFlags(line);
    const log = entry.log;
    const complete = log.charCodeAt(log.length - 1) === 10; /* \n */
    const max = this.ctx.maxRecordBytes;

    if (!complete) {
      if (!pieces.active) pieces.begin(line.start, time);
      pieces.add(log, line.end, flags, nowMs, max);
      return;
    }
    const text = log.slice(0, -1);
    if (pieces.active) {
      pieces.add(text, line.end, flags, nowMs, max);
      parser.pushText(pieces.take(), pieces.start, pieces.end, pieces.flags, nowMs, pieces.time);
      return;
    }
    // The common case: a whole line in one entry.
    let t = text.charCodeAt(text.length - 1) === 13 ? text.slice(0, -1) : text;
    let f = flags;
    if (t.length * 3 > max && Buffer.byteLength(t) > max) {
      t = truncateUtf8(t, max);
      f |= LINE_TRUNCATED;
    }
    parser.pushText(t, line.start, line.end, f, nowMs, time);
  }

  /**
   * The common entry, fast: one whole line of plain output (an access log line, say) on stdout or stderr, passed on
   * as the JSON text Docker wrote, without decoding and re-encoding it. False for anything else (pieces, text the
   * Django parser must look into, a line feed or carriage return inside, an odd entry): push() then decodes it.
   */
  private pushPlainEntry(line: Line, nowMs: number): boolean {
    const m = this.scanned;
    let log = -1, stream = -1, time = -1;
    for (let i = 0; i < m.count; i++) {
      switch (m.key(i)) {
        case 'log': log = i; break;
        case 'stream': stream = i; break;
        case 'time': time = i; break;
        default: return false;
      }
    }
    if (log < 0 || stream < 0 || time < 0 || m.kind(log) !== JSON_STRING || m.kind(stream) !== JSON_STRING || m.kind(time) !== JSON_STRING) {
      return false;
    }
    const streamName = m.string(stream);
    const isErr = streamName === 'stderr';
    if (!isErr && streamName !== 'stdout') return false;
    if ((isErr ? this.errPieces : this.outPieces).active) return false;
    // `"…\n"`: a whole line ends in the escape \n, and it must be its only line feed (the only "\n" or "\u000" in
    // the text, not preceded by a backslash that would make it a literal "\" + "n", nor by a carriage return).
    const raw = m.json(log);
    const n = raw.length;
    if (n < 4 || raw.indexOf('\\n') !== n - 3 || raw.charCodeAt(n - 4) === 92 || raw.indexOf('\\u000') >= 0) return false;
    if (raw.charCodeAt(n - 4) === 114 /* r */ && raw.charCodeAt(n - 5) === 92) return false;
    if (n * 3 > this.ctx.maxRecordBytes) return false; // may need truncating: decode it
    const ts = isoFromDocker(m.string(time));
    if (ts === null) return false;
    const parser = isErr ? this.stderr : this.stdout;
    if (!parser.pushPlainJson(raw.slice(0, n - 3) + '"', line.start, line.end, lineFlags(line), nowMs, ts)) return false;
    this.lastTs = ts;
    return true;
  }

  flush(nowMs: number, force: boolean): void {
    this.flushPieces(this.outPieces, this.stdout, nowMs, force);
    this.flushPieces(this.errPieces, this.stderr, nowMs, force);
    this.stdout.flush(nowMs, force);
    this.stderr.flush(nowMs, force);
  }

  heldFrom(): number | null {
    let min: number | null = null;
    if (this.outPieces.active) min = this.outPieces.start;
    if (this.errPieces.active && (min === null || this.errPieces.start < min)) min = this.errPieces.start;
    const a = this.stdout.heldFrom();
    if (a !== null && (min === null || a < min)) min = a;
    const b = this.stderr.heldFrom();
    if (b !== null && (min === null || b < min)) min = b;
    return min;
  }

  /**
   * A line whose last piece did not come in time is given to the parser as it is, tagged. It is pushed with the
   * time its last piece arrived, so the Django parser's own timeout (already passed) lets it out in the same flush.
   */
  private flushPieces(pieces: Pieces, parser: DjangoParser, nowMs: number, force: boolean): void {
    if (!pieces.active || (!force && nowMs - pieces.lastMs < this.ctx.multilineTimeoutMs)) return;
    const lastMs = pieces.lastMs;
    parser.pushText(pieces.take(), pieces.start, pieces.end, pieces.flags | LINE_PARTIAL, lastMs, pieces.time);
  }

  /** An entry that is not Docker JSON (cut, corrupt): a record of its own, the raw line as message. */
  private emitBroken(line: Line, nowMs: number): void {
    // No Docker time to go by: the previous entry's, else now; tagged either way.
    const ts = this.lastTs ?? new Date(nowMs).toISOString();
    const f = this.brokenFields.reset(ts, quote(line.text), line.start, REC_PARSE_ERROR | REC_NO_TIMESTAMP | lineFlags(line));
    if (this.ctx.includeOriginal) f.originalJson = f.messageJson;
    this.emit(new ParsedRecord(line.start, line.end, this.brokenWriter.write(f), f.flags));
  }
}

type PlainTemplate = ReturnType<DocumentWriter['plainTemplate']>;

/**
 * A parser for one json-file log of container `containerId` (null when unknown: no container.id then). With a
 * `placement`, whole plain lines can be taken from their bytes (pushBytes) and their documents written there.
 */
export function createDockerParser(
  ctx: ParserContext,
  containerId: string | null,
  emit: EmitRecord,
  placement: DocumentPlacement | null = null,
): RecordParser {
  return new DockerRecordParser(ctx, containerId, emit, placement);
}
