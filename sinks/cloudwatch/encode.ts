/**
 * From a record to a PutLogEvents event: the message is the record's ECS document as one JSON object (Logs Insights
 * discovers its fields), with `event.id` set to the record's deterministic id (file identity + offset); the event
 * timestamp is the document's @timestamp.
 *
 * CloudWatch Logs accepts an event only from 14 days (or the group's retention, if shorter) ago to 2 hours ahead
 * (limits.ts). What this sink does at each end, deliberately:
 * - too old: the record is not sent; it goes to the dead letters with the reason. CloudWatch would refuse it
 *   (tooOldLogEventEndIndex / expiredLogEventEndIndex) or delete it at once, and re-dating it would put old events
 *   among today's. Anything CloudWatch still refuses (a group retention shorter than the config knows) is read from
 *   `rejectedLogEventsInfo` and dead-lettered the same way.
 * - too new (a host clock ahead, or a wrong input `timezone`): the event is sent with the send time as its
 *   timestamp, the document keeps its own @timestamp, and gets the tag `_logship_timestamp_clamped`. The record is
 *   kept where it can be searched rather than set aside.
 * - too large: the document is made to fit by cutting its longest strings (truncate.ts), tagged `_logship_truncated`.
 */
import { documentJson, recordId, type EcsDocument, type LogRecord } from '../../src/record.js';
import { EVENT_OVERHEAD_BYTES, MAX_AGE_MS, MAX_FUTURE_MS, type PreparedEvent } from './limits.js';
import { fitDocument } from './truncate.js';

export const TAG_TIMESTAMP_CLAMPED = '_logship_timestamp_clamped';

/**
 * Events this close to the 2-hour limit are clamped too: the request takes time to arrive, and the agent's clock and
 * CloudWatch's may differ by a little.
 */
export const FUTURE_MARGIN_MS = 5 * 60_000;

const DAY_MS = 24 * 3600_000;

export interface EncodeOptions {
  /** Milliseconds since the epoch: the time of the send. */
  readonly now: number;
  /** Largest event as counted against the batch (message bytes + 26). */
  readonly maxEventBytes: number;
  /** The group's retention, when the config sets it. */
  readonly retentionDays?: number;
}

export type Encoded =
  | { readonly kind: 'event'; readonly event: PreparedEvent; readonly truncated: boolean; readonly clamped: boolean }
  | { readonly kind: 'rejected'; readonly reason: string };

/** The document as sent: the ECS document plus event.id. */
type SentDocument = Omit<EcsDocument, 'event'> & { event: { original?: string; id: string } };

/**
 * `doc` is `record.doc`, read once by the caller (a record from the tailer parses its JSON on each read of `doc`).
 * `index` is the record's position in the Batch.
 */
export function encodeRecord(record: LogRecord, doc: EcsDocument, index: number, options: EncodeOptions): Encoded {
  const { now } = options;
  const parsed = Date.parse(doc['@timestamp']);
  let timestamp = Number.isFinite(parsed) ? parsed : now;

  const retentionMs = options.retentionDays === undefined ? Infinity : options.retentionDays * DAY_MS;
  if (timestamp < now - Math.min(MAX_AGE_MS, retentionMs)) {
    const limit = retentionMs < MAX_AGE_MS ? `the log group's retention (${options.retentionDays} days)` : '14 days';
    return {
      kind: 'rejected',
      reason: `too old for CloudWatch Logs: @timestamp ${doc['@timestamp']} is more than ${limit} before the send time`,
    };
  }
  const clamped = timestamp > now + MAX_FUTURE_MS - FUTURE_MARGIN_MS;
  if (clamped) timestamp = now;

  const id = recordId(record);
  // The common case splices event.id into the JSON the record already is, rather than serialising it again.
  let message = !clamped && doc.event === undefined ? withEventId(documentJson(record), id) : JSON.stringify(sentDocument(doc, id, clamped));
  let bytes = Buffer.byteLength(message);
  let truncated = false;
  if (bytes + EVENT_OVERHEAD_BYTES > options.maxEventBytes) {
    const fitted = fitDocument(sentDocument(doc, id, clamped), options.maxEventBytes - EVENT_OVERHEAD_BYTES);
    ({ json: message, bytes, truncated } = fitted);
  }
  return { kind: 'event', event: { index, timestamp, message, size: bytes + EVENT_OVERHEAD_BYTES }, truncated, clamped };
}

function sentDocument(doc: EcsDocument, id: string, clamped: boolean): SentDocument {
  const sent: SentDocument = { ...doc, event: { ...doc.event, id } };
  if (clamped) sent.tags = [...(doc.tags ?? []), TAG_TIMESTAMP_CLAMPED];
  return sent;
}

/** `{…}` → `{…,"event":{"id":…}}`, for a document without an `event` key. */
function withEventId(json: string, id: string): string {
  const field = `"event":{"id":${JSON.stringify(id)}}`;
  return json === '{}' ? `{${field}}` : `${json.slice(0, -1)},${field}}`;
}
