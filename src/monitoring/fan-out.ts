import type { LossReason, PipelineEvents } from '../events.js';

/** Every event to each of `targets`, in order: the run summary's Counters and the Prometheus metrics side by side. */
export class FanOut implements PipelineEvents {
  private readonly targets: readonly PipelineEvents[];

  constructor(...targets: PipelineEvents[]) {
    this.targets = targets;
  }

  bytesRead(input: string, path: string, bytes: number, lines: number): void {
    for (const t of this.targets) t.bytesRead(input, path, bytes, lines);
  }
  recordsParsed(input: string, records: number, parseErrors: number, multiline?: number): void {
    for (const t of this.targets) t.recordsParsed(input, records, parseErrors, multiline);
  }
  fileOpened(path: string): void {
    for (const t of this.targets) t.fileOpened(path);
  }
  fileClosed(path: string): void {
    for (const t of this.targets) t.fileClosed(path);
  }
  rotationSeen(path: string): void {
    for (const t of this.targets) t.rotationSeen(path);
  }
  truncationSeen(path: string): void {
    for (const t of this.targets) t.truncationSeen(path);
  }
  bytesLost(path: string, bytes: number, reason: LossReason): void {
    for (const t of this.targets) t.bytesLost(path, bytes, reason);
  }
  fileSkipped(path: string, reason: 'binary'): void {
    for (const t of this.targets) t.fileSkipped(path, reason);
  }
  batchSent(sink: string, records: number, latencyMs: number): void {
    for (const t of this.targets) t.batchSent(sink, records, latencyMs);
  }
  sendFailed(sink: string, reason: string): void {
    for (const t of this.targets) t.sendFailed(sink, reason);
  }
  recordsRetried(sink: string, records: number): void {
    for (const t of this.targets) t.recordsRetried(sink, records);
  }
  recordsAcked(sink: string, records: number): void {
    for (const t of this.targets) t.recordsAcked(sink, records);
  }
  recordsDeadLettered(sink: string, records: number): void {
    for (const t of this.targets) t.recordsDeadLettered(sink, records);
  }
  checkpointWritten(ok: boolean, error?: string): void {
    for (const t of this.targets) t.checkpointWritten(ok, error);
  }
  deadLettersWritten(ok: boolean, error?: string): void {
    for (const t of this.targets) t.deadLettersWritten(ok, error);
  }
  deadLettersDropped(records: number, bytes: number): void {
    for (const t of this.targets) t.deadLettersDropped(records, bytes);
  }
}
