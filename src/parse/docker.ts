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
 *
 * Documents carry the container: its id from the path, and what the agent read from its config.v2.json when the file
 * was opened (name, image, chosen labels, compose service: ParserContext.container), made into JSON text once per
 * parser. Entries written with `--log-opt labels=…/env=…/tag=…` carry an `attrs` object (after `stream`); those go
 * to container.labels too.
 */

import { createDjangoParser, LINE_PARTIAL, LINE_TRUNCATED, lineFlags, truncateUtf8, type DjangoParser } from './django.js';
import { DocumentFields, DocumentWriter, ParsedRecord, quote, REC_NO_TIMESTAMP, REC_PARSE_ERROR, type DocumentPlacement } from './document.js';
import { DockerTimeBytes, plainEntryAt } from './docker-bytes.js';
import { digitCount, writeDigits } from './digits.js';
import { isoFromDocker } from './time.js';
import { LastTimestamp } from './timestamp-bytes.js';
import { JSON_STRING, ScannedObject } from './json-members.js';
import type { CarriedPieces, EmitRecord, Line, ParserContext, RecordParser } from './types.js';
import { containerMembers, type ContainerInfo } from '../containers/metadata.js';
import { CarriedLines } from './carried-lines.js';
import { Pieces } from './docker-pieces.js';


/** ".../<id>/<id>-json.log" and its rotations ("-json.log.1"); the id is 64 lowercase hex digits. */
const CONTAINER_LOG_RE = /(?:^|\/)([0-9a-f]{64})-json\.log(?:\.\d+)?$/;

/** The container id in a json-file log path, or null when the path is not one. */
export function containerIdFromPath(path: string): string | null {
  const m = CONTAINER_LOG_RE.exec(path);
  return m === null ? null : m[1]!;
}

interface DockerEntry {
  log: string;
  stream?: unknown;
  attrs?: unknown;
  time?: unknown;
}

/** Are the entry's attrs those already taken? (Every taken value is a string; a non-string one counts as different.) */
function sameAttrs(taken: Readonly<Record<string, string>>, given: Readonly<Record<string, unknown>>): boolean {
  let n = 0;
  for (const k in given) {
    if (taken[k] !== given[k]) return false;
    n++;
  }
  return n === Object.keys(taken).length;
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
  /** Latest Docker time seen, for an entry too broken to have one: text, or where a line's bytes left it. */
  private readonly lastTs = new LastTimestamp();
  /** Times of the plain lines taken as bytes, per stream (each stream's parser goes back to its own last one). */
  private readonly outTimes = new DockerTimeBytes();
  private readonly errTimes = new DockerTimeBytes();
  /** Documents of entries that are not Docker JSON: no stream, the container when known. */
  private brokenWriter: DocumentWriter;
  private readonly brokenFields = new DocumentFields();
  /** The entry being pushed, read in place (reused). */
  private readonly scanned = new ScannedObject();

  /** Lines whose first pieces came from the previous generation of the file. */
  private readonly carriedLines = new CarriedLines();

  /** Document parts for lines written from their bytes (pushBytes), per stream. */
  private outTemplate!: PlainTemplate;
  private errTemplate!: PlainTemplate;
  /** The container's facts, written into every document (its id at least, when the path names it). */
  private readonly container: ContainerInfo | undefined;
  /** The entries' `attrs` (`--log-opt labels=…/env=…/tag=…`) the documents carry under container.labels; null: none. */
  private attrs: Record<string, string> | null = null;

  constructor(
    private readonly ctx: ParserContext,
    containerId: string | null,
    private readonly emit: EmitRecord,
    private readonly placement: DocumentPlacement | null = null,
  ) {
    this.container = containerId === null ? ctx.container : { ...ctx.container, id: ctx.container?.id ?? containerId };
    const [outDecoration, errDecoration, container] = this.decorations();
    this.stdout = createDjangoParser(ctx, (r) => this.emitFrom(0, r), 'stream', outDecoration);
    this.stderr = createDjangoParser(ctx, (r) => this.emitFrom(1, r), 'stream', errDecoration);
    this.brokenWriter = new DocumentWriter(ctx.path, ctx.hostName, container);
    this.makeTemplates(outDecoration, errDecoration);
  }

  /**
   * The decorations (stdout's, stderr's, and the container's alone), made into JSON text once per parser (and again
   * only if the entries' attrs change), not per line.
   */
  private decorations(): [string, string, string] {
    const container = containerMembers(this.container, this.attrs ?? undefined);
    return [`,"stream":"stdout"${container}`, `,"stream":"stderr"${container}`, container];
  }

  private makeTemplates(outDecoration: string, errDecoration: string): void {
    // The same writer the stream's Django parser uses, so the bytes are the text it would make.
    this.outTemplate = new DocumentWriter(this.ctx.path, this.ctx.hostName, outDecoration).plainTemplate();
    this.errTemplate = new DocumentWriter(this.ctx.path, this.ctx.hostName, errDecoration).plainTemplate();
  }

  /**
   * An entry's `attrs`: dockerd computes them once per container start from the log options, so they are the same
   * on every entry and this is a comparison of a few strings per line, for containers that have them. When they
   * differ (the first entry that has them), the decorations are made again.
   */
  private takeAttrs(attrs: unknown): void {
    if (attrs === null || typeof attrs !== 'object' || Array.isArray(attrs)) return;
    const given = attrs as Record<string, unknown>;
    if (this.attrs !== null && sameAttrs(this.attrs, given)) return;
    const next: Record<string, string> = {};
    for (const [k, v] of Object.entries(given)) if (typeof v === 'string') next[k] = v;
    this.attrs = next;
    const [outDecoration, errDecoration, container] = this.decorations();
    this.stdout.redecorate(outDecoration);
    this.stderr.redecorate(errDecoration);
    this.brokenWriter = new DocumentWriter(this.ctx.path, this.ctx.hostName, container);
    this.makeTemplates(outDecoration, errDecoration);
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
    const times = e.stderr ? this.errTimes : this.outTimes;
    if (!times.read(buf, e.timeAt, e.timeEnd)) return false;
    const t = e.stderr ? this.errTemplate : this.outTemplate;
    // head + timestamp + `","message":` + the log JSON up to its final \n escape + `"` + log.file… + offset + tail
    const text = e.textEnd - e.logAt;
    const bytes = t.head.length + times.length + t.message.length + text + 1 + t.logFile.length + digitCount(start) + t.tail.length;
    const { buffer, at } = placement.place(bytes, start);
    let p = at;
    buffer.set(t.head.bytes, p);
    p += t.head.length;
    p = times.copyTo(buffer, p);
    buffer.set(t.message.bytes, p);
    p += t.message.length;
    // A view and set(): Buffer.copy into the shared chunk took about twice as long (see ArenaChunk.bytes).
    buffer.set(new Uint8Array(buf.buffer, buf.byteOffset + e.logAt, text), p);
    p += text;
    buffer[p++] = 0x22; // "
    buffer.set(t.logFile.bytes, p);
    p = writeDigits(buffer, p + t.logFile.length, start);
    buffer.set(t.tail.bytes, p);
    this.lastTs.from(times);
    parser.plainWritten(times);
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
    if (entry.attrs !== undefined) this.takeAttrs(entry.attrs);
    const isErr = entry.stream === 'stderr';
    const pieces = isErr ? this.errPieces : this.outPieces;
    const parser = isErr ? this.stderr : this.stdout;
    const time = typeof entry.time === 'string' ? isoFromDocker(entry.time) : null;
    if (time !== null) this.lastTs.set(time);
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
      this.pushPieces(isErr ? 1 : 0, pieces, parser, 0, nowMs);
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
    this.lastTs.set(ts);
    return true;
  }

  flush(nowMs: number, force: boolean): void {
    this.flushPieces(0, this.outPieces, this.stdout, nowMs, force);
    this.flushPieces(1, this.errPieces, this.stderr, nowMs, force);
    this.stdout.flush(nowMs, force);
    this.stderr.flush(nowMs, force);
  }

  heldFrom(): number | null {
    let min: number | null = null;
    if (this.outPieces.active) min = this.outPieces.start;
    if (this.errPieces.active && (min === null || this.errPieces.start < min)) min = this.errPieces.start;
    const a = this.carriedLines.localHeld(0, this.stdout.heldFrom());
    if (a !== null && (min === null || a < min)) min = a;
    const b = this.carriedLines.localHeld(1, this.stderr.heldFrom());
    if (b !== null && (min === null || b < min)) min = b;
    return min;
  }


  /**
   * A line whose last piece did not come in time is given to the parser as it is, tagged. It is pushed with the
   * time its last piece arrived, so the Django parser's own timeout (already passed) lets it out in the same flush.
   */
  private flushPieces(index: number, pieces: Pieces, parser: DjangoParser, nowMs: number, force: boolean): void {
    if (!pieces.active || (!force && nowMs - pieces.lastMs < this.ctx.multilineTimeoutMs)) return;
    this.pushPieces(index, pieces, parser, LINE_PARTIAL, pieces.lastMs);
  }

  /** The joined pieces go to the stream's Django parser, as one line that began where the first piece did. */
  private pushPieces(index: number, pieces: Pieces, parser: DjangoParser, extraFlags: number, nowMs: number): void {
    this.carriedLines.note(index, pieces.idStart, pieces.start, pieces.link);
    const { idStart, end, time } = pieces;
    const text = pieces.take(this.ctx.maxRecordBytes);
    parser.pushText(text, idStart, end, pieces.flags | extraFlags, nowMs, time);
  }

  /**
   * A record of stream `index`'s Django parser. One that began in the previous generation goes on with this file's
   * offset (for the checkpoint) and its link (for its id and the previous file's checkpoint).
   */
  private emitFrom(index: number, r: ParsedRecord): void {
    this.emit(this.carriedLines.relink(index, r));
  }

  exportCarried(): CarriedPieces[] {
    const out: CarriedPieces[] = [];
    if (this.outPieces.active) out.push(this.outPieces.export(0));
    if (this.errPieces.active) out.push(this.errPieces.export(1));
    return out;
  }

  importCarried(carried: CarriedPieces, link: number, localStart: number): void {
    (carried.index === 1 ? this.errPieces : this.outPieces).import(carried, link, localStart);
  }

  /** An entry that is not Docker JSON (cut, corrupt): a record of its own, the raw line as message. */
  private emitBroken(line: Line, nowMs: number): void {
    // No Docker time to go by: the previous entry's, else now; tagged either way.
    const ts = this.lastTs.text() ?? new Date(nowMs).toISOString();
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
