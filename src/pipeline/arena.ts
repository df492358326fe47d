/**
 * Where the JSON text of records waits for delivery: in large Buffers outside the JavaScript heap, reused.
 *
 * Why: a record lives from parsing until its batch is acknowledged, tens of milliseconds, which is long enough for
 * V8 to move it to the old generation. Kept as JS strings, every document ever shipped was promoted and then
 * collected by full mark-compacts: most of the heap's growth (peak RSS) and a large part of the GC time. Copied
 * here, the string dies young (cheap) and what survives is a small record object pointing into a chunk.
 *
 * A chunk counts the records still in it; when it is full and its last record is released (acknowledged by the
 * sink), it is reused, so memory stays flat at roughly the data in flight. A record released twice or read after
 * release would corrupt a reused chunk: ColumnBatch forgets an acknowledged row's chunk and refuses to read it.
 */

/**
 * Who takes a chunk back once it is sealed and every record in it is released: the arena (for reuse), or the parse
 * thread whose worker filled it (see tail/parse-thread.ts), which hands the buffer back to the worker.
 */
export interface ChunkOwner {
  reclaim(chunk: ArenaChunk): void;
}

export class ArenaChunk {
  /** Bytes written so far. */
  used = 0;
  /** Records written here and not yet released. */
  live = 0;
  /** No more records go here: it is reclaimed when `live` reaches 0. */
  sealed = false;

  constructor(
    readonly buffer: Buffer,
    private readonly owner: ChunkOwner,
  ) {}

  /** A record whose text is here is done with it. */
  release(): void {
    this.live--;
    if (this.live === 0 && this.sealed) this.owner.reclaim(this);
  }

  /** No more records go here. */
  seal(): void {
    this.sealed = true;
    if (this.live === 0) this.owner.reclaim(this);
  }
}

export class DocumentArena implements ChunkOwner {
  private current: ArenaChunk;
  private readonly spare: ArenaChunk[] = [];

  /**
   * @param chunkBytes size of a chunk; a text larger than this gets a chunk of its own, never reused
   * @param maxSpare empty chunks kept for reuse. Generous on purpose: the chunks in use are bounded by the records in
   *   flight, so spares only stop at that peak; a chunk dropped instead is garbage outside the heap until a full
   *   collection, and new ones piled up meanwhile (measured: peaks of +25 MiB with 2 spares, none with 16)
   */
  constructor(
    private readonly chunkBytes = 1 << 20,
    private readonly maxSpare = 16,
  ) {
    this.current = this.newChunk(chunkBytes);
  }

  /** Copies `text` (`bytes` UTF-8 bytes) into a chunk; returns the chunk, with the text at `chunk.used - bytes`. */
  store(text: string, bytes: number): ArenaChunk {
    let chunk = this.current;
    if (chunk.used + bytes > chunk.buffer.length) {
      chunk.seal();
      if (bytes > this.chunkBytes) {
        // An oversized text: a chunk of its own, sealed at once (freed, not reused, after its record is released).
        chunk = this.newChunk(bytes);
        chunk.sealed = true;
      } else {
        chunk = this.current = this.spare.pop() ?? this.newChunk(this.chunkBytes);
      }
    }
    chunk.used += chunk.buffer.write(text, chunk.used, bytes, 'utf8');
    chunk.live++;
    return chunk;
  }

  /** Chunks kept for reuse (for tests and metrics). */
  get spareChunks(): number {
    return this.spare.length;
  }

  reclaim(chunk: ArenaChunk): void {
    if (chunk.buffer.length !== this.chunkBytes || this.spare.length >= this.maxSpare) return;
    chunk.used = 0;
    chunk.sealed = false;
    this.spare.push(chunk);
  }

  private newChunk(bytes: number): ArenaChunk {
    // allocUnsafeSlow: a Buffer of its own, not a slice of Node's shared pool, so reusing it touches nothing else.
    return new ArenaChunk(Buffer.allocUnsafeSlow(bytes), this);
  }
}
