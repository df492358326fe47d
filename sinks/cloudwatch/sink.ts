/**
 * The CloudWatch Logs sink, through @aws-sdk/client-cloudwatch-logs v3.
 *
 * A core Batch may hold records of many streams (`log_stream: "{host}/{file}"`): send() splits it per group and
 * stream, sorts and cuts each stream's events into requests within the PutLogEvents limits (limits.ts), and sends
 * each stream's requests one after another (one request at a time per stream, also across concurrent send() calls),
 * streams in parallel up to `stream_concurrency` requests in flight in all. The outcomes are folded into one
 * SendResult whose indexes are positions in the Batch given to send().
 *
 * The client does no retrying (`maxAttempts: 1`): core owns backoff with jitter. The sink retries on its own only
 * what is not a failure: after creating a missing group or stream it sends the request again once, and a request
 * refused as invalid is split in halves to find the event that cannot be stored (dead-lettered) and store the rest.
 *
 * Credentials come only from the SDK's default provider chain; nothing here reads, holds or logs them.
 */
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  PutLogEventsCommand,
  PutRetentionPolicyCommand,
  type RejectedLogEventsInfo,
} from '@aws-sdk/client-cloudwatch-logs';
import PQueue from 'p-queue';
import type { Logger } from '../../src/log.js';
import type { Batch, Rejection, SendResult, Sink, SinkDeps } from '../../src/sink.js';
import { classifyError, refusedEvents, type ErrorClass } from './classify.js';
import type { CloudWatchSinkConfig } from './config.js';
import { encodeRecord, TAG_TIMESTAMP_CLAMPED } from './encode.js';
import { chunkEvents, type PreparedEvent } from './limits.js';
import { fieldValues, parseTemplate, renderer, validGroupName, validStreamName } from './template.js';

interface Route {
  readonly group: string;
  readonly stream: string;
  readonly events: PreparedEvent[];
}

/** What became of the events of one stream (or one request), by batch index; those in no list are stored. */
interface Outcome {
  rejected: Rejection[];
  retry: number[];
  retryReason: string;
  fatal: string | null;
}

type Step = { readonly kind: 'ok' } | { readonly kind: 'retry'; readonly reason: string } | { readonly kind: 'fatal'; readonly reason: string };

export function createCloudWatchSink(config: CloudWatchSinkConfig, deps: SinkDeps): Sink {
  const { logger } = deps;
  quietNodeVersionWarning(logger);
  const client = new CloudWatchLogsClient({
    ...(config.region !== undefined && { region: config.region }),
    ...(config.endpoint !== undefined && { endpoint: config.endpoint }),
    maxAttempts: 1,
    requestHandler: {
      requestTimeout: config.requestTimeoutMs,
      connectionTimeout: Math.min(config.requestTimeoutMs, 10_000),
      throwOnRequestTimeout: true,
    },
  });
  const groupName = renderer(config.logGroup);
  const streamName = renderer(config.logStream);
  const staticGroup = parseTemplate(config.logGroup).every((p) => typeof p === 'string') ? config.logGroup : null;
  /** Every request, puts and creates alike, takes a slot: at most stream_concurrency in flight. */
  const requests = new PQueue({ concurrency: config.streamConcurrency });
  /** Per stream, the tail of the chain of senders waiting for it: one sender per stream at a time. */
  const streamLocks = new Map<string, Promise<void>>();
  /** Group creations in progress, shared by the streams that found the group missing at the same time. */
  const groupsInProgress = new Map<string, Promise<Step>>();
  /** Groups this sink created whose retention policy is not set yet (the call failed and will be made again). */
  const retentionOwed = new Set<string>();
  const warned = new Set<string>();

  function request<T>(fn: () => Promise<T>): Promise<T> {
    return requests.add(fn);
  }

  async function withStreamLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = streamLocks.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => mine);
    streamLocks.set(key, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      if (streamLocks.get(key) === tail) streamLocks.delete(key);
    }
  }

  async function call(fn: () => Promise<unknown>): Promise<ErrorClass | null> {
    try {
      await request(fn);
      return null;
    } catch (err) {
      return classifyError(err);
    }
  }

  async function ensureGroup(group: string): Promise<Step> {
    if (!config.createGroup) {
      return { kind: 'fatal', reason: `log group ${group} does not exist and sink.create_group is false: create it, or set create_group: true` };
    }
    let pending = groupsInProgress.get(group);
    if (!pending) {
      pending = createGroup(group).finally(() => groupsInProgress.delete(group));
      groupsInProgress.set(group, pending);
    }
    return pending;
  }

  async function createGroup(group: string): Promise<Step> {
    const failed = await call(() => client.send(new CreateLogGroupCommand({ logGroupName: group })));
    if (failed === null) {
      logger.info('created CloudWatch log group', { log_group: group });
      if (config.retentionDays !== undefined) retentionOwed.add(group);
    } else if (failed.kind !== 'exists') {
      return step(failed);
    }
    if (!retentionOwed.has(group)) return { kind: 'ok' };
    const retention = await call(() =>
      client.send(new PutRetentionPolicyCommand({ logGroupName: group, retentionInDays: config.retentionDays })),
    );
    if (retention !== null) return step(retention);
    retentionOwed.delete(group);
    logger.info('set CloudWatch log group retention', { log_group: group, retention_days: config.retentionDays });
    return { kind: 'ok' };
  }

  async function ensureStream(route: Route, what: 'group' | 'stream'): Promise<Step> {
    if (what === 'group') {
      const group = await ensureGroup(route.group);
      if (group.kind !== 'ok') return group;
    }
    for (let attempt = 0; attempt < 2; attempt++) {
      const failed = await call(() => client.send(new CreateLogStreamCommand({ logGroupName: route.group, logStreamName: route.stream })));
      if (failed === null) {
        logger.debug('created CloudWatch log stream', { log_group: route.group, log_stream: route.stream });
        return { kind: 'ok' };
      }
      if (failed.kind === 'exists') return { kind: 'ok' };
      if (failed.kind !== 'missing' || attempt > 0) return step(failed);
      const group = await ensureGroup(route.group); // the stream is missing because its group is
      if (group.kind !== 'ok') return group;
    }
    return { kind: 'retry', reason: 'log stream could not be created' };
  }

  /** One PutLogEvents of `events` (one stream, sorted, within the limits), with what follows from its answer. */
  async function put(route: Route, events: readonly PreparedEvent[], mayCreate: boolean): Promise<Outcome> {
    let info: RejectedLogEventsInfo | undefined;
    let failed: ErrorClass | null = null;
    try {
      const response = await request(() =>
        client.send(
          new PutLogEventsCommand({
            logGroupName: route.group,
            logStreamName: route.stream,
            logEvents: events.map((e) => ({ timestamp: e.timestamp, message: e.message })),
          }),
        ),
      );
      info = response.rejectedLogEventsInfo;
    } catch (err) {
      failed = classifyError(err);
    }
    const indexes = events.map((e) => e.index);
    if (failed === null || failed.kind === 'stored') {
      const refused = refusedEvents(info, events.length);
      if (refused.length > 0) {
        logger.warn('CloudWatch Logs rejected events (rejectedLogEventsInfo)', {
          log_group: route.group, log_stream: route.stream, count: refused.length, first_reason: refused[0]?.reason,
        });
      }
      return { ...outcome(), rejected: refused.map((r) => ({ index: events[r.position]!.index, reason: r.reason })) };
    }
    switch (failed.kind) {
      case 'missing': {
        if (!mayCreate) return { ...outcome(), retry: indexes, retryReason: failed.reason };
        const created = await ensureStream(route, failed.what);
        if (created.kind === 'fatal') return { ...outcome(), fatal: created.reason };
        if (created.kind === 'retry') return { ...outcome(), retry: indexes, retryReason: created.reason };
        return put(route, events, false);
      }
      case 'invalid': {
        // The limits are kept, so this should not happen; if it does, find the event(s) refused and keep the rest.
        if (events.length === 1) return { ...outcome(), rejected: [{ index: indexes[0]!, reason: `CloudWatch Logs refused the event: ${failed.reason}` }] };
        logger.warn('CloudWatch Logs refused a request as invalid; sending it in halves', {
          log_group: route.group, log_stream: route.stream, events: events.length, reason: failed.reason,
        });
        const half = Math.ceil(events.length / 2);
        const first = await put(route, events.slice(0, half), mayCreate);
        if (first.fatal !== null || first.retry.length > 0) return merge(first, retryAll(events.slice(half), first));
        return merge(first, await put(route, events.slice(half), mayCreate));
      }
      case 'exists': // not an answer PutLogEvents gives
        return { ...outcome(), retry: indexes, retryReason: 'unexpected ResourceAlreadyExistsException from PutLogEvents' };
      case 'retry':
        return { ...outcome(), retry: indexes, retryReason: failed.reason };
      case 'fatal':
        return { ...outcome(), fatal: failed.reason };
    }
  }

  /** A stream's requests, one after another; after a failure the rest of the stream waits for core's retry. */
  function sendRoute(route: Route): Promise<Outcome> {
    return withStreamLock(`${route.group}\u0000${route.stream}`, async () => {
      let result = outcome();
      if (retentionOwed.has(route.group)) {
        // The group was created but setting its retention failed: set it before more events go in.
        const group = await ensureGroup(route.group);
        if (group.kind === 'fatal') return { ...result, fatal: group.reason };
        if (group.kind === 'retry') return { ...result, retry: route.events.map((e) => e.index), retryReason: group.reason };
      }
      for (const chunk of chunkEvents(route.events)) {
        if (result.fatal !== null || result.retry.length > 0) {
          result = merge(result, retryAll(chunk, result));
          continue;
        }
        result = merge(result, await put(route, chunk, true));
      }
      return result;
    });
  }

  function warnOnce(key: string, msg: string, fields: Record<string, unknown>): void {
    if (warned.has(key)) return logger.debug(msg, fields);
    warned.add(key);
    logger.warn(msg, fields);
  }

  return {
    name: 'cloudwatch',
    deduplicates: false,

    async start(): Promise<SendResult> {
      let region: string;
      try {
        region = await client.config.region();
      } catch {
        return { kind: 'fatal', reason: 'no AWS region: set sink.region, or AWS_REGION in the environment' };
      }
      try {
        await client.config.credentials();
      } catch (err) {
        // At start, finding no credentials at all is a configuration problem: say so rather than retry forever.
        return {
          kind: 'fatal',
          reason: `no AWS credentials from the default provider chain (environment, AWS_PROFILE and shared files, web identity, container or instance role): ${(err as Error).message}`,
        };
      }
      logger.info('CloudWatch Logs sink ready', {
        region,
        ...(config.endpoint !== undefined && { endpoint: config.endpoint }),
        log_group: config.logGroup,
        log_stream: config.logStream,
      });
      if (staticGroup === null || !config.createGroup) return { kind: 'delivered' };
      const group = await ensureGroup(validGroupName(staticGroup));
      return group.kind === 'ok' ? { kind: 'delivered' } : group;
    },

    async send(batch: Batch): Promise<SendResult> {
      const n = batch.records.length;
      if (n === 0) return { kind: 'delivered' };
      const now = Date.now();
      const tooOld: Rejection[] = [];
      const routes = new Map<string, Route>();
      let truncated = 0;
      let clamped = 0;
      batch.records.forEach((record, index) => {
        const doc = record.doc; // parsed once here: a tailer record parses its JSON on each read
        const encoded = encodeRecord(record, doc, index, { now, maxEventBytes: config.maxEventBytes, retentionDays: config.retentionDays });
        if (encoded.kind === 'rejected') {
          tooOld.push({ index, reason: encoded.reason });
          return;
        }
        if (encoded.truncated) truncated++;
        if (encoded.clamped) clamped++;
        const values = fieldValues(record, doc, deps.hostName);
        const group = validGroupName(groupName(values));
        const stream = validStreamName(streamName(values));
        const key = `${group}\u0000${stream}`;
        let route = routes.get(key);
        if (!route) routes.set(key, (route = { group, stream, events: [] }));
        route.events.push(encoded.event);
      });
      if (truncated > 0) warnOnce('truncated', 'documents larger than an event were truncated to fit', { count: truncated, max_event_bytes: config.maxEventBytes });
      if (clamped > 0) {
        warnOnce('clamped', 'records more than 2 hours ahead were sent with the send time as their timestamp (check the host clock and inputs[].timezone)', { count: clamped, tag: TAG_TIMESTAMP_CLAMPED });
      }
      if (tooOld.length > 0) logger.debug('records too old for CloudWatch Logs go to the dead letters', { count: tooOld.length });

      const results = await Promise.all([...routes.values()].map(sendRoute));
      const total = results.reduce(merge, { ...outcome(), rejected: tooOld });
      if (total.fatal !== null) return { kind: 'fatal', reason: total.fatal };
      const { retry, rejected } = total;
      if (retry.length === 0 && rejected.length === 0) return { kind: 'delivered' };
      if (retry.length === n) return { kind: 'retry', reason: total.retryReason };
      const parts: string[] = [];
      if (retry.length > 0) parts.push(`${retry.length} to retry (${total.retryReason})`);
      if (rejected.length > 0) parts.push(`${rejected.length} rejected (${rejected[0]?.reason})`);
      return {
        kind: 'partial',
        retry: retry.sort((a, b) => a - b),
        rejected: rejected.sort((a, b) => a.index - b.index),
        reason: `${n - retry.length - rejected.length} of ${n} stored, ${parts.join(', ')}`,
      };
    },

    async close(): Promise<void> {
      await requests.onIdle();
      client.destroy();
    },
  };
}

/**
 * On Node < 22 the SDK prints a multi-line NodeVersionSupportWarning to stderr, where the agent writes JSON lines:
 * turn it off (its documented switch) and say it once in the agent's own log instead.
 */
function quietNodeVersionWarning(logger: Logger): void {
  if (process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] !== undefined) return;
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';
  if (Number(process.versions.node.split('.')[0]) < 22) {
    logger.debug('AWS SDK for JavaScript v3 releases after the first week of January 2027 need Node 22', { node: process.version });
  }
}

function outcome(): Outcome {
  return { rejected: [], retry: [], retryReason: '', fatal: null };
}

function merge(a: Outcome, b: Outcome): Outcome {
  return {
    rejected: a.rejected.concat(b.rejected),
    retry: a.retry.concat(b.retry),
    retryReason: a.retryReason || b.retryReason,
    fatal: a.fatal ?? b.fatal,
  };
}

/** The events of `events` left to core's retry, for the reason `after` gives. */
function retryAll(events: readonly PreparedEvent[], after: Outcome): Outcome {
  return { ...outcome(), retry: events.map((e) => e.index), retryReason: after.retryReason || `not sent after: ${after.fatal}` };
}

/** A create (group, stream, retention) that failed, as a step: a refused name is for an operator to fix. */
function step(e: ErrorClass): Step {
  switch (e.kind) {
    case 'stored':
    case 'exists':
      return { kind: 'ok' };
    case 'fatal':
      return e;
    case 'invalid':
      return { kind: 'fatal', reason: e.reason };
    case 'missing':
    case 'retry':
      return { kind: 'retry', reason: e.reason };
  }
}
