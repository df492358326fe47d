/**
 * Chunks for documents made in tests (the agent's come from the parse thread): texts are copied in, and a full
 * chunk is reused once every record in it is released, as the parse thread's are — so tests of batches and delivery
 * see the same release and reuse rules (ArenaChunk.release/seal) with records they make themselves.
 */
import { ArenaChunk, type ChunkOwner } from '../../src/pipeline/arena.js';

/** Where a stored document is: what ColumnBatch.add and Batcher.add take. */
export interface Stored {
  readonly chunk: ArenaChunk;
  readonly at: number;
  readonly length: number;
}

export class TestArena implements ChunkOwner {
  private current: ArenaChunk;
  private used = 0;
  private readonly spare: ArenaChunk[] = [];

  /** @param chunkBytes a chunk's size; a text larger than this gets a chunk of its own, never reused */
  constructor(
    private readonly chunkBytes = 1 << 20,
    private readonly maxSpare = 16,
  ) {
    this.current = new ArenaChunk(Buffer.alloc(chunkBytes), this);
  }

  /** Copies `text` into a chunk, where it counts as a live record. */
  store(text: string): Stored {
    const length = Buffer.byteLength(text);
    let chunk = this.current;
    if (this.used + length > chunk.buffer.length) {
      chunk.seal();
      if (length > this.chunkBytes) {
        // An oversized text: a chunk of its own, sealed at once (dropped, not reused, once its record is released).
        chunk = new ArenaChunk(Buffer.alloc(length), this);
        chunk.sealed = true;
        chunk.buffer.write(text, 0, 'utf8');
        chunk.live++;
        return { chunk, at: 0, length };
      }
      chunk = this.current = this.spare.pop() ?? new ArenaChunk(Buffer.alloc(this.chunkBytes), this);
      this.used = 0;
    }
    const at = this.used;
    this.used += chunk.buffer.write(text, at, 'utf8');
    chunk.live++;
    return { chunk, at, length };
  }

  /** Chunks kept for reuse. */
  get spareChunks(): number {
    return this.spare.length;
  }

  reclaim(chunk: ArenaChunk): void {
    if (chunk.buffer.length !== this.chunkBytes || this.spare.length >= this.maxSpare) return;
    chunk.sealed = false;
    this.spare.push(chunk);
  }
}
