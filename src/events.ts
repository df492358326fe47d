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
  /** Bytes that were in a file but could not be read before it disappeared. Honest accounting: normally 0. */
  bytesLost(path: string, bytes: number): void;
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
  bytesLost(_path: string, bytes: number): void {
    this.lostBytes += bytes;
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
