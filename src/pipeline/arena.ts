/**
 * Where the JSON text of records waits for delivery: in large Buffers outside the JavaScript heap, reused.
 *
 * Why: a record lives from parsing until its batch is acknowledged, tens of milliseconds, which is long enough for
 * V8 to move it to the old generation. Kept as JS strings, every document ever shipped was promoted and then
 * collected by full mark-compacts: most of the heap's growth (peak RSS) and a large part of the GC time. Written
 * into a chunk at once (by the parse thread: parse-thread/reply-writer.ts), the string dies young (cheap) and what
 * survives is a row of numbers pointing into a chunk.
 *
 * A chunk counts the records still in it; when it is sealed (full) and its last record is released (acknowledged by
 * the sink), its owner takes it back to fill it again, so memory stays flat at roughly the data in flight. A record
 * released twice or read after release would corrupt a reused chunk: ColumnBatch forgets an acknowledged row's chunk
 * and refuses to read it.
 */

/**
 * Who takes a chunk back once it is sealed and every record in it is released: the parse thread whose worker filled
 * it (see parse-thread/thread.ts), which hands the buffer back to the worker to be filled again.
 */
export interface ChunkOwner {
  reclaim(chunk: ArenaChunk): void;
}

export class ArenaChunk {
  /** Records written here and not yet released. */
  live = 0;
  /** No more records go here: it is reclaimed when `live` reaches 0. */
  sealed = false;

  /**
   * The same memory as a plain Uint8Array, to copy documents out of: `bytes.subarray()` + `set()` took half the time
   * of `Buffer.copy` from shared memory (75 against 140–165 ns for a 550-byte document, measured on Node 20), the
   * largest single cost of the agent's thread on Docker logs.
   */
  readonly bytes: Uint8Array;

  constructor(
    readonly buffer: Buffer,
    private readonly owner: ChunkOwner,
  ) {
    this.bytes = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.length);
  }

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
