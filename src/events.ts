/**
 * Why bytes were lost; each loss is logged with its path and counted (logship_rotation_lost_bytes_total{reason}):
 * - deleted_before_open: a rotated generation seen (or a file matched) but deleted before a descriptor could be had;
 * - deleted_while_closed: a file closed (max_open_files, idle) and deleted before the rest of it was read;
 * - truncated: truncated (copytruncate) below bytes it was seen to hold and not yet read;
 * - gone_at_restart: a checkpointed file gone, or rewritten, when the agent started.
 */
export const LOSS_REASONS = ['deleted_before_open', 'deleted_while_closed', 'truncated', 'gone_at_restart'] as const;
export type LossReason = (typeof LOSS_REASONS)[number];

/**
 * What the pipeline reports about itself. Core calls these; a metrics module (or a test) implements them, so the
 * tailing and delivery code owns no metric names. Every method must be cheap: some run per chunk or per batch.
 */
export interface PipelineEvents {
  bytesRead(input: string, path: string, bytes: number, lines: number): void;
  /** `multiline`: records holding more than one line of text (a joined message or a Python traceback). */
  recordsParsed(input: string, records: number, parseErrors: number, multiline?: number): void;
  fileOpened(path: string): void;
  fileClosed(path: string): void;
  rotationSeen(path: string): void;
  truncationSeen(path: string): void;
  /**
   * Bytes that were in a file but could not be read before they were gone (`reason`: see tail/context.ts LossReason).
   * Honest accounting: normally 0.
   */
  bytesLost(path: string, bytes: number, reason: LossReason): void;
  /** A matched file that is not read at all: 'binary' (a NUL byte in its first block: not a log). */
  fileSkipped(path: string, reason: 'binary'): void;
  batchSent(sink: string, records: number, latencyMs: number): void;
  sendFailed(sink: string, reason: string): void;
  recordsRetried(sink: string, records: number): void;
  recordsAcked(sink: string, records: number): void;
  recordsDeadLettered(sink: string, records: number): void;
  /** `error`: why a write failed, for /health. */
  checkpointWritten(ok: boolean, error?: string): void;
  /** A dead-letter write: `error` when it failed (it is retried; its records are not acknowledged meanwhile). */
  deadLettersWritten(ok: boolean, error?: string): void;
  /** The oldest dead-letter file was removed to stay within dead_letters.max_bytes: what it held. */
  deadLettersDropped(records: number, bytes: number): void;
}

/** Plain counters: the summary `run --once` prints, and what tests assert on. */
export class Counters implements PipelineEvents {
  bytes = 0;
  lines = 0;
  records = 0;
  parseErrors = 0;
  rotations = 0;
  truncations = 0;
  lostBytes = 0;
  filesSkipped = 0;
  batches = 0;
  failures = 0;
  retried = 0;
  acked = 0;
  deadLettered = 0;
  checkpointFailures = 0;
  deadLetterFailures = 0;
  deadLettersDroppedRecords = 0;

  bytesRead(_input: string, _path: string, bytes: number, lines: number): void {
    this.bytes += bytes;
    this.lines += lines;
  }
  recordsParsed(_input: string, records: number, parseErrors: number): void {
    this.records += records;
    this.parseErrors += parseErrors;
  }
  fileOpened(): void {}
  fileClosed(): void {}
  rotationSeen(): void {
    this.rotations++;
  }
  truncationSeen(): void {
    this.truncations++;
  }
  bytesLost(_path: string, bytes: number, _reason: LossReason): void {
    this.lostBytes += bytes;
  }
  fileSkipped(): void {
    this.filesSkipped++;
  }
  batchSent(): void {
    this.batches++;
  }
  sendFailed(): void {
    this.failures++;
  }
  recordsRetried(_sink: string, records: number): void {
    this.retried += records;
  }
  recordsAcked(_sink: string, records: number): void {
    this.acked += records;
  }
  recordsDeadLettered(_sink: string, records: number): void {
    this.deadLettered += records;
  }
  checkpointWritten(ok: boolean): void {
    if (!ok) this.checkpointFailures++;
  }
  deadLettersWritten(ok: boolean): void {
    if (!ok) this.deadLetterFailures++;
  }
  deadLettersDropped(records: number): void {
    this.deadLettersDroppedRecords += records;
  }
}
