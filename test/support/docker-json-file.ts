/**
 * Docker's json-file logging driver, byte for byte, for tests: what dockerd writes to
 * /var/lib/docker/containers/<id>/<id>-json.log for a container's stdout and stderr.
 *
 * Ported from moby (github.com/moby/moby, read at b985e23):
 * - daemon/logger/copier.go, `copySrc`: each stream is read in reads of at most 2 KiB into a 16 KiB buffer; every
 *   complete line in it is one message; when the buffer is full with no newline at all, its 16,384 bytes go out as a
 *   partial message (cut wherever the bytes fall, UTF-8 sequences included), and so on until the newline comes; at
 *   EOF the rest goes out as a partial too. Every piece of one line has the time of its first piece.
 * - daemon/logger/jsonfilelog/jsonfilelog.go, `marshalMessage`: a message gets its "\n" back unless it is a partial
 *   that is not the last; `jsonlog/jsonlogbytes.go`: `{"log":…,"stream":…,"time":…}` then "\n", the strings escaped
 *   by `ffjsonWriteJSONBytesAsString` (Go's HTML-safe escaping: `<` `>` `&` as \u003c \u003e \u0026, U+2028/U+2029
 *   escaped, control characters other than \n and \r as \u00XX, each byte of an invalid UTF-8 sequence as \ufffd);
 *   `time_marshalling.go`: RFC 3339 with nanoseconds, trailing zeros dropped (Go's time.RFC3339Nano), in UTC.
 * - daemon/logger/loggerutils/logfile.go, `WriteLogEntry` and `rotate`: before every entry, if the file already holds
 *   max-size bytes or more, `<id>-json.log.<max-file - 1>` is removed, `.N-1` renamed to `.N` down to `.1`, the file
 *   renamed to `.1`, and a new one created (mode 0640); the entry then goes to the new file. So a long line's pieces
 *   may straddle a rotation.
 */
import { closeSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { goJsonString, rfc3339Nano } from './go-json.js';

export { goJsonString, rfc3339Nano } from './go-json.js';

/** copier.go defaultBufSize: a line longer than this is cut into partial messages of exactly this many bytes. */
export const DOCKER_PIECE_BYTES = 16 * 1024;
/** copier.go readSize: the most one read of the container's pipe takes. */
const READ_SIZE = 2 * 1024;

export type DockerStream = 'stdout' | 'stderr';

/** A clock in nanoseconds that never goes back and never repeats (dockerd's time.Now() has ns resolution). */
function nanoClock(): () => bigint {
  const originNs = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
  let last = 0n;
  return () => {
    let now = originNs + process.hrtime.bigint();
    if (now <= last) now = last + 1n;
    last = now;
    return now;
  };
}

/** One application line as a reader of the json-file log sees it once its pieces are joined. */
export interface WrittenLine {
  readonly stream: DockerStream;
  /** The `log` texts of its entries, decoded and concatenated, without the final "\n". */
  readonly text: string;
  /** Entries it took (1 for a line up to 16 KiB). */
  readonly pieces: number;
  /** Bytes of those entries in the log files. */
  readonly bytes: number;
  /** Where its first entry starts, and where its last entry ends (its offset + length). */
  readonly first: EntryAt;
  readonly last: EntryAt;
  /** It ended at EOF without a newline (its last entry is a partial too). */
  readonly unterminated: boolean;
}

/** Where an entry went: the generation (rotations before it) and its offset in that file. */
export interface EntryAt {
  readonly generation: number;
  readonly offset: number;
}

/** Where entries are written: loggerutils.LogFile's job. */
export interface EntryLog {
  writeEntry(entry: Buffer): EntryAt;
  close(): void;
  /** Rotations so far. */
  readonly rotations: number;
}

/**
 * loggerutils.LogFile: appends entries to `<path>`, rotating by size exactly as dockerd does (checked before every
 * entry). maxSize -1: never rotate.
 */
export class JsonLogFile implements EntryLog {
  private fd: number;
  private size = 0;
  rotations = 0;

  constructor(
    readonly path: string,
    private readonly maxSize = -1,
    private readonly maxFile = 1,
  ) {
    mkdirSync(dirname(path), { recursive: true });
    this.fd = openSync(path, 'a', 0o640);
  }

  writeEntry(entry: Buffer): EntryAt {
    if (this.maxSize !== -1 && this.size >= this.maxSize) this.rotate();
    const at = { generation: this.rotations, offset: this.size };
    writeSync(this.fd, entry);
    this.size += entry.length;
    return at;
  }

  private rotate(): void {
    closeSync(this.fd);
    if (this.maxFile >= 2) {
      rmSync(`${this.path}.${this.maxFile - 1}`, { force: true });
      for (let i = this.maxFile - 1; i > 1; i--) renameIfExists(`${this.path}.${i - 1}`, `${this.path}.${i}`);
      renameIfExists(this.path, `${this.path}.1`);
    } else {
      rmSync(this.path, { force: true });
    }
    this.fd = openSync(this.path, 'w', 0o640);
    this.size = 0;
    this.rotations++;
  }

  close(): void {
    closeSync(this.fd);
  }
}

function ended(at: EntryAt, bytes: number): EntryAt {
  return { generation: at.generation, offset: at.offset + bytes };
}

function renameIfExists(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/** copier.copySrc for one stream: bytes of the container's output in, messages (with partial metadata) out. */
class StreamCopier {
  private readonly buf: Buffer;
  private n = 0;
  private partialTime: bigint | null = null;
  /** Decoded `log` texts of the line being cut into partials, and the bytes of their entries. */
  private partialTexts: string[] = [];
  private partialBytes = 0;
  private partialFirst: EntryAt | null = null;
  private partialLast: EntryAt | null = null;

  constructor(
    private readonly stream: DockerStream,
    /** Writes one message as an entry; its `log` text decoded, and the entry's bytes. */
    private readonly emit: (line: Buffer, partial: 'no' | 'piece' | 'last', time: bigint) => [string, number, EntryAt],
    private readonly clock: () => bigint,
    private readonly lines: WrittenLine[],
    bufSize: number,
  ) {
    this.buf = Buffer.alloc(bufSize);
  }

  /** What the container wrote to this stream, read by dockerd in reads of at most 2 KiB. */
  write(data: Buffer): void {
    let at = 0;
    while (at < data.length) {
      const upto = Math.min(this.n + READ_SIZE, this.buf.length);
      const take = Math.min(upto - this.n, data.length - at);
      data.copy(this.buf, this.n, at, at + take);
      this.n += take;
      at += take;
      this.drain(false);
    }
  }

  /** The container closed the stream: the rest goes out as a partial (Last: false), as copySrc does at EOF. */
  close(): void {
    this.drain(true);
  }

  /** The line whose first pieces are in the log while the rest has not come, as a reader sees it now; or null. */
  pending(): WrittenLine | null {
    if (this.partialTime === null) return null;
    const text = this.partialTexts.join('');
    return { stream: this.stream, text, pieces: this.partialTexts.length, bytes: this.partialBytes, first: this.partialFirst!, last: this.partialLast!, unterminated: true };
  }

  private drain(eof: boolean): void {
    let p = 0;
    for (let q = this.buf.indexOf(0x0a, p); q >= 0 && q < this.n; q = this.buf.indexOf(0x0a, p)) {
      const line = Buffer.from(this.buf.subarray(p, q));
      if (this.partialTime !== null) {
        const [text, bytes, at] = this.emit(line, 'last', this.partialTime);
        this.finishLine([...this.partialTexts, text], this.partialBytes + bytes, this.partialFirst!, ended(at, bytes), false);
        this.partialTime = null;
        this.partialTexts = [];
        this.partialBytes = 0;
      } else {
        const [text, bytes, at] = this.emit(line, 'no', this.clock());
        this.finishLine([text], bytes, at, ended(at, bytes), false);
      }
      p = q + 1;
    }
    if (eof || (p === 0 && this.n === this.buf.length)) {
      if (p < this.n) {
        if (this.partialTime === null) this.partialTime = this.clock();
        const [text, bytes, at] = this.emit(Buffer.from(this.buf.subarray(p, this.n)), 'piece', this.partialTime);
        this.partialTexts.push(text);
        this.partialBytes += bytes;
        this.partialFirst ??= at;
        this.partialLast = ended(at, bytes);
        p = this.n = 0;
      }
      if (eof && this.partialTime !== null) {
        this.finishLine(this.partialTexts, this.partialBytes, this.partialFirst!, this.partialLast!, true);
        this.partialTime = null;
        this.partialTexts = [];
        this.partialBytes = 0;
      }
    }
    if (p > 0) {
      this.buf.copy(this.buf, 0, p, this.n);
      this.n -= p;
    }
  }

  private finishLine(texts: string[], bytes: number, first: EntryAt, last: EntryAt, unterminated: boolean): void {
    let text = texts.join('');
    if (!unterminated) text = text.slice(0, -1); // the "\n" marshalMessage added
    this.lines.push({ stream: this.stream, text, pieces: texts.length, bytes, first, last, unterminated });
    this.partialFirst = this.partialLast = null;
  }
}

export interface DockerContainerOptions {
  /**
   * The copier's buffer: lines longer than this are cut into pieces of this many bytes. 16 KiB for json-file (and
   * every driver without a size of its own); a logging driver may ask for another (SizedLogger.BufSize), which lets
   * tests make many pieces out of short lines.
   */
  bufSize?: number;
}

/**
 * One container's log: write to its stdout and stderr as the process in the container would, and the entries land
 * in `log` (a json-file on disk, or in memory) as dockerd writes them. `lines` lists every application line written,
 * as a reader should see it after joining the pieces.
 */
export class DockerContainer {
  readonly lines: WrittenLine[] = [];
  private readonly out: StreamCopier;
  private readonly err: StreamCopier;
  /** Entries written. */
  entries = 0;

  constructor(
    readonly log: EntryLog,
    options: DockerContainerOptions = {},
  ) {
    const clock = nanoClock();
    const emit = (stream: DockerStream) => (line: Buffer, partial: 'no' | 'piece' | 'last', time: bigint): [string, number, EntryAt] => {
      const log = partial === 'piece' ? line : Buffer.concat([line, Buffer.from('\n')]);
      const logJson = goJsonString(log);
      // `"log"` is left out when empty (omitempty); a message always has at least its "\n" unless it is an empty piece.
      const head = log.length === 0 ? '{' : `{"log":${logJson},`;
      const entry = Buffer.from(`${head}"stream":"${stream}","time":"${rfc3339Nano(time)}"}\n`);
      const at = this.log.writeEntry(entry);
      this.entries++;
      return [JSON.parse(logJson) as string, entry.length, at];
    };
    const bufSize = options.bufSize ?? DOCKER_PIECE_BYTES;
    this.out = new StreamCopier('stdout', emit('stdout'), clock, this.lines, bufSize);
    this.err = new StreamCopier('stderr', emit('stderr'), clock, this.lines, bufSize);
  }

  /** Bytes (or UTF-8 text) the container wrote to a stream; lines end where "\n" is. */
  write(stream: DockerStream, data: Buffer | string): void {
    (stream === 'stdout' ? this.out : this.err).write(typeof data === 'string' ? Buffer.from(data) : data);
  }

  /** Lines of which only pieces are in the log so far (a long line still being written), per stream. */
  pending(): WrittenLine[] {
    return [this.out.pending(), this.err.pending()].filter((l): l is WrittenLine => l !== null);
  }

  /** The container exited: what is left unterminated on each stream goes out as a partial; the log is closed. */
  close(): void {
    this.out.close();
    this.err.close();
    this.log.close();
  }
}

/** A container whose log is `<dir>/<id>-json.log`, rotated by `maxSize` / `maxFile` as dockerd's --log-opt say. */
export function containerOnDisk(dir: string, id: string, o: { maxSize?: number; maxFile?: number } = {}): DockerContainer {
  return new DockerContainer(new JsonLogFile(`${dir}/${id}-json.log`, o.maxSize ?? -1, o.maxFile ?? 1));
}

/**
 * The same log kept in memory, for property tests: every generation is kept (generations[0] is the oldest), rotated
 * by size exactly as JsonLogFile is.
 */
export class MemoryJsonLog implements EntryLog {
  readonly generations: Buffer[][] = [[]];
  private size = 0;
  rotations = 0;

  constructor(private readonly maxSize = -1) {}

  writeEntry(entry: Buffer): EntryAt {
    if (this.maxSize !== -1 && this.size >= this.maxSize) {
      this.generations.push([]);
      this.size = 0;
      this.rotations++;
    }
    const at = { generation: this.rotations, offset: this.size };
    this.generations.at(-1)!.push(entry);
    this.size += entry.length;
    return at;
  }

  /** The bytes of generation `g`. */
  bytes(g: number): Buffer {
    return Buffer.concat(this.generations[g] ?? []);
  }

  close(): void {}
}
