/**
 * Time-driven work on the followed files, on its own short timer: timeouts (an unfinished last line, a multi-line
 * record waiting for lines that do not come), closing idle descriptors, handing a rotated generation's pieces to its
 * successor, and letting go of rotated or deleted files once read to their end and acknowledged.
 */
import type { TailContext } from './context.js';
import type { TrackedFile } from './file.js';
import { spansRotation, successorOf } from './generations.js';
import type { Keeper } from './keeper.js';

export class Upkeep {
  constructor(
    private readonly ctx: TailContext,
    private readonly keeper: Keeper,
  ) {}

  async run(now: number): Promise<void> {
    const { files, options, logger } = this.ctx;
    // Only files whose parser holds something have a timeout to mind (a host may follow thousands of idle files).
    for (const f of [...files.all()]) if (!f.parseIdle) await f.tick(now, options.partialLineTimeoutMs);
    for (const f of [...files.active.values()]) {
      if (f.isOpen && f.settled && f.readToEnd && now - f.lastGrowthAt >= options.closeInactiveMs) {
        await files.close(f); // reopened by the scan when it changes
        logger.debug('closed an idle file', { path: f.path });
      }
      // A closed file whose parser holds nothing costs the parse thread nothing: its stream is opened again when read.
      if (!f.isOpen && f.parseIdle) f.dispose();
    }
    for (const g of [...files.moved]) await this.drain(g, now);
  }

  /** A rotated generation read to its end hands what its parser holds to the next one (Docker/CRI pieces). */
  async handOverIfReady(g: TrackedFile, now: number): Promise<void> {
    if (g.handedOver || g.placement !== 'moved' || !g.readToEnd || !spansRotation(g.input)) return;
    const successor = successorOf(g, this.ctx.files);
    if (successor !== null && (await g.readToEndNow(now))) await g.handOver(successor, this.ctx.carried.token());
  }

  private async drain(g: TrackedFile, now: number): Promise<void> {
    const { files, options, logger } = this.ctx;
    await this.handOverIfReady(g, now);
    const due = !g.letGo && g.readToEnd && now - g.lastGrowthAt >= options.rotateWaitMs;
    if (due && (await g.readToEndNow(now)) && now - g.lastGrowthAt >= options.rotateWaitMs) {
      // Nothing more will come. What its parser still holds ships now (a line's first pieces whose rest never came).
      await g.finish(now, true);
      g.letGo = true;
      g.handedOver = true;
      logger.info('a rotated or deleted file was read to its end', { path: g.path, inode: g.key, offset: g.readOffset, deleted: g.deleted });
    }
    if (g.letGo && g.outstanding === 0) {
      files.remove(g); // first: nothing may pick it up while its descriptor closes
      this.keeper.remember(g);
      await files.close(g);
      g.dispose();
      logger.info('released a rotated or deleted file: every record acknowledged', { path: g.path, inode: g.key, offset: g.readOffset });
    }
  }
}
