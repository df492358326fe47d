/**
 * The Cloud Logging sink: a batch becomes entries.write calls (gRPC WriteLogEntries) with `partial_success: true`,
 * each entry fitted under the entry limit and the batch split under the request limits (limits.ts).
 *
 * A send answers once, for the whole batch, with indexes into the batch it was given:
 * - entries the service refuses one by one (its WriteLogEntriesPartialErrors) are `rejected`, with its reason:
 *   dead letters; the rest of the call is written;
 * - a call refused as invalid without per-entry errors (which the service does when it writes nothing) is split in
 *   halves and sent again, down to single entries, so that only the entries at fault are rejected;
 * - UNAVAILABLE, RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED, INTERNAL and network failures: `retry` (core backs off);
 *   the later calls of the batch are not attempted then, they are retried with it;
 * - PERMISSION_DENIED, UNAUTHENTICATED, NOT_FOUND: `fatal`, with what to fix.
 *
 * start() settles the project (configured, else from the credentials) and the resource (configured, else detected
 * from the metadata server; never with `insecure`), then makes a dry-run write of one entry, so that missing
 * permissions or a resource the service refuses stop the agent at once with a clear message.
 */
import { recordId } from '../../src/record.js';
import type { Batch, Rejection, SendResult, Sink, SinkDeps } from '../../src/sink.js';
import type { CloudLoggingResource, CloudLoggingSinkConfig } from './config.js';
import { classifyWriteError, type ClassifyContext, type WriteOutcome } from './classify.js';
import type { LoggingClient } from './client.js';
import { envelopeOf, toStruct, type EntryContext, type LogEntryMessage } from './entry.js';
import { fitPayload, planRequests } from './limits.js';
import { compileTemplate, type Template } from './template.js';

const NO_PROJECT = /Unable to detect a Project Id/i;

/**
 * `connect` makes the client; by default it loads @google-cloud/logging (with google-gax, gRPC and protobufjs, some
 * 40 MB) when the sink starts, so that an agent using another sink never loads it.
 */
export function createCloudLoggingSink(
  config: CloudLoggingSinkConfig,
  deps: SinkDeps,
  connect: () => Promise<LoggingClient> = async () => (await import('./client.js')).createLoggingClient(config),
): Sink {
  const { logger } = deps;
  const logName = compileTemplate(config.logName);
  const labels = compileAll(config.labels);
  let ctx: EntryContext | null = null;
  let connecting: Promise<LoggingClient> | null = null;
  let client: LoggingClient | null = null;
  let hints: ClassifyContext = { projectId: config.projectId ?? '(not yet known)', endpoint: '' };

  async function prepare(): Promise<SendResult> {
    if (client === null) {
      connecting ??= connect();
      try {
        client = await connecting;
      } catch (err) {
        connecting = null;
        return { kind: 'fatal', reason: `cannot set up the Cloud Logging client: ${err instanceof Error ? err.message : String(err)}` };
      }
      hints = { ...hints, endpoint: client.endpoint };
    }
    return settle(client);
  }

  async function settle(client: LoggingClient): Promise<SendResult> {
    let projectId = config.projectId;
    if (projectId === undefined) {
      try {
        projectId = await client.projectId();
      } catch (err) {
        const message = (err instanceof Error ? err.message : String(err)).replace(/\s*\n\s*/g, ' ').trim();
        if (NO_PROJECT.test(message)) {
          return { kind: 'fatal', reason: `${message}; set sink.project_id (or GOOGLE_CLOUD_PROJECT)` };
        }
        return classifyWriteError(err, 0, hints).kind === 'fatal'
          ? { kind: 'fatal', reason: `cannot find the project: ${message}` }
          : { kind: 'retry', reason: `cannot find the project yet: ${message}` };
      }
    }
    hints = { projectId, endpoint: client.endpoint };
    const resource = await resolveResource(client, projectId);
    const next: EntryContext = {
      projectId,
      logName,
      resource: { type: resource.type, labels: config.resource ? compileAll(resource.labels) : literalAll(resource.labels) },
      labels,
      hostName: deps.hostName,
    };
    // A dry run writes nothing: the service checks the request and the permission, and answers as it would.
    const probe = envelopeOf(
      { source: { path: '', idPrefix: 'logship-start-check', ack() {} }, start: 0, end: 0, seq: 0, bytes: 0, doc: probeDoc(deps.hostName) },
      next,
    );
    try {
      await client.write({ entries: [{ ...probe, jsonPayload: toStruct({ message: 'logship start check (dry run)' }) }], partialSuccess: true, dryRun: true });
    } catch (err) {
      const outcome = classifyWriteError(err, 1, hints);
      if (outcome.kind === 'retry' || outcome.kind === 'fatal') return outcome;
      if (outcome.kind !== 'written') {
        const why = outcome.kind === 'invalid' ? outcome.reason : (outcome.fatal ?? outcome.rejected[0]?.reason ?? outcome.retryReason);
        return { kind: 'fatal', reason: `Cloud Logging refuses entries as configured (dry-run write): ${why}; check sink.log_name and sink.resource` };
      }
    }
    ctx = next;
    logger.info('writing to Cloud Logging', {
      project: projectId,
      log_name: config.logName,
      resource: resource.type,
      endpoint: client.endpoint,
      credentials: config.insecure ? 'none (insecure, loopback)' : config.keyFilename !== undefined ? 'key file' : 'application default',
    });
    return { kind: 'delivered' };
  }

  async function resolveResource(client: LoggingClient, projectId: string): Promise<CloudLoggingResource> {
    if (config.resource) return config.resource;
    // A local endpoint is a test or an emulator: nothing is looked up off this machine.
    if (config.insecure) return { type: 'global', labels: {} };
    try {
      const found = await client.detectResource(projectId);
      logger.info('detected the monitored resource', { type: found.type, labels: found.labels });
      return found;
    } catch (err) {
      logger.warn('could not detect the monitored resource; using global (set sink.resource to choose)', { error: err });
      return { type: 'global', labels: {} };
    }
  }

  return {
    name: 'cloud_logging',
    deduplicates: true, // entries with the same insertId and timestamp are one

    start: prepare,

    async send(batch: Batch): Promise<SendResult> {
      const n = batch.records.length;
      if (n === 0) return { kind: 'delivered' };
      if (ctx === null) {
        const ready = await prepare();
        if (ready.kind !== 'delivered') return ready;
      }
      const c = ctx!;
      const api = client!;
      const entries: LogEntryMessage[] = [];
      const sizes: number[] = [];
      for (const record of batch.records) {
        const envelope = envelopeOf(record, c);
        const fitted = fitPayload(envelope, record.doc);
        if (fitted.truncated) {
          logger.warn('record over the Cloud Logging entry limit, truncated', {
            id: recordId(record),
            path: record.source.path,
            bytes: fitted.originalSize,
            sent: fitted.size,
          });
        }
        entries.push({ ...envelope, jsonPayload: toStruct(fitted.payload) });
        sizes.push(fitted.size);
      }

      const tally = new Tally(n);
      const write = async (indexes: readonly number[]): Promise<void> => {
        if (tally.stop !== null) return tally.retry(indexes, tally.stop.reason, tally.stop.delayMs);
        let outcome: WriteOutcome;
        try {
          await api.write({ entries: indexes.map((i) => entries[i]!), partialSuccess: true });
          outcome = { kind: 'written' };
        } catch (err) {
          outcome = classifyWriteError(err, indexes.length, hints);
        }
        switch (outcome.kind) {
          case 'written':
            return;
          case 'entries':
            for (const r of outcome.rejected) tally.reject(indexes[r.index]!, r.reason);
            tally.retry(outcome.retry.map((i) => indexes[i]!), outcome.retryReason);
            if (outcome.fatal !== null) tally.fail(outcome.fatal);
            return;
          case 'retry':
            tally.retry(indexes, outcome.reason, outcome.delayMs);
            tally.stop = outcome; // the service is not taking writes now: the rest of the batch waits for core's retry
            return;
          case 'fatal':
            tally.fail(outcome.reason);
            return;
          case 'invalid': {
            if (indexes.length === 1) return tally.reject(indexes[0]!, outcome.reason);
            logger.debug('call refused without per-entry errors; sending it in halves', { entries: indexes.length, reason: outcome.reason });
            const half = Math.ceil(indexes.length / 2);
            await write(indexes.slice(0, half));
            await write(indexes.slice(half));
            return;
          }
        }
      };
      for (const group of planRequests(sizes)) {
        if (tally.fatal !== null) break;
        await write(group);
      }
      const result = tally.result();
      if (result.kind !== 'delivered') logger.debug('entries.write answered with failures', { kind: result.kind, reason: result.reason });
      return result;
    },

    async close(): Promise<void> {
      if (connecting === null) return;
      // A client that never got credentials fails its close with the same error: there is nothing to close then.
      await (await connecting).close().catch((err: unknown) => logger.debug('closing the Cloud Logging client failed', { error: err }));
    },
  };
}

/** What became of each entry of a batch, across its calls. */
class Tally {
  private readonly retrying = new Set<number>();
  private readonly rejected: Rejection[] = [];
  private retryReason = '';
  private delayMs: number | undefined;
  fatal: string | null = null;
  /** Set by a call answered "retry": the remaining calls are not made. */
  stop: { reason: string; delayMs?: number } | null = null;

  constructor(private readonly size: number) {}

  retry(indexes: readonly number[], reason: string, delayMs?: number): void {
    if (indexes.length === 0) return;
    for (const i of indexes) this.retrying.add(i);
    this.retryReason ||= reason;
    if (delayMs !== undefined) this.delayMs = Math.max(this.delayMs ?? 0, delayMs);
  }

  reject(index: number, reason: string): void {
    this.rejected.push({ index, reason });
  }

  fail(reason: string): void {
    this.fatal ??= reason;
  }

  result(): SendResult {
    if (this.fatal !== null) return { kind: 'fatal', reason: this.fatal };
    const retry = [...this.retrying].sort((a, b) => a - b);
    const rejected = [...this.rejected].sort((a, b) => a.index - b.index);
    const delay = this.delayMs === undefined ? {} : { delayMs: this.delayMs };
    if (retry.length === 0 && rejected.length === 0) return { kind: 'delivered' };
    if (rejected.length === 0 && retry.length === this.size) return { kind: 'retry', reason: this.retryReason, ...delay };
    const parts: string[] = [];
    if (retry.length > 0) parts.push(`${retry.length} to retry (${this.retryReason})`);
    if (rejected.length > 0) parts.push(`${rejected.length} rejected (${rejected[0]!.reason})`);
    const written = this.size - retry.length - rejected.length;
    return { kind: 'partial', retry, rejected, reason: `${written} of ${this.size} written, ${parts.join(', ')}`, ...delay };
  }
}

function compileAll(texts: Readonly<Record<string, string>>): Record<string, Template> {
  const out: Record<string, Template> = {};
  for (const [k, v] of Object.entries(texts)) out[k] = compileTemplate(v);
  return out;
}

/** Detected values are taken as they are, braces and all. */
function literalAll(texts: Readonly<Record<string, string>>): Record<string, Template> {
  const out: Record<string, Template> = {};
  for (const [k, v] of Object.entries(texts)) out[k] = [v];
  return out;
}

function probeDoc(hostName: string) {
  return {
    '@timestamp': new Date().toISOString(),
    message: 'logship start check (dry run)',
    log: { file: { path: '' }, offset: 0 },
    host: { name: hostName },
  };
}
