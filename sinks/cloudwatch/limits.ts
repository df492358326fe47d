/**
 * The PutLogEvents limits, and the cutting of one stream's events into requests that obey them.
 *
 * From the API reference, https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutLogEvents.html:
 * - "The maximum batch size is 1,048,576 bytes. This size is calculated as the sum of all event messages in UTF-8,
 *   plus 26 bytes for each log event."
 * - "The maximum number of log events in a batch is 10,000."
 * - "The log events in the batch must be in chronological order by their timestamp." (else the request fails)
 * - "For valid events (within 14 days in the past to 2 hours in future), the time span in a single batch cannot
 *   exceed 24 hours. Otherwise, the operation fails."
 * - "Events more than 2 hours in the future are rejected while processing remaining valid events." / "Events older
 *   than 14 days or preceding the log group's retention period are rejected while processing remaining valid events."
 * - "Each log event can be no larger than 1 MB." (earlier versions of the page said 256 KB; the quotas page,
 *   https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/cloudwatch_limits_cwl.html, gives "Event size: 1 MB").
 *   An event is counted like the batch, message bytes + 26, so one event of 1,048,576 fills a request alone.
 */

export const MAX_BATCH_BYTES = 1_048_576;
export const EVENT_OVERHEAD_BYTES = 26;
export const MAX_BATCH_EVENTS = 10_000;
export const MAX_BATCH_SPAN_MS = 24 * 3600_000;
export const MAX_EVENT_BYTES = 1_048_576;
export const MAX_FUTURE_MS = 2 * 3600_000;
export const MAX_AGE_MS = 14 * 24 * 3600_000;

/** One log event ready to send, with the position of its record in the Batch given to send(). */
export interface PreparedEvent {
  readonly index: number;
  /** Milliseconds since the epoch, as PutLogEvents takes it. */
  readonly timestamp: number;
  readonly message: string;
  /** What the event counts for against the batch limit: UTF-8 bytes of the message + 26. */
  readonly size: number;
}

/**
 * Sorts one stream's events by timestamp (stably: equal timestamps keep their order in the batch) and cuts them into
 * requests of at most 10,000 events, 1,048,576 counted bytes and a span under 24 hours. Each event is assumed to be
 * within MAX_EVENT_BYTES already (encode.ts sees to it).
 */
export function chunkEvents(events: readonly PreparedEvent[]): PreparedEvent[][] {
  const sorted = [...events].sort((a, b) => a.timestamp - b.timestamp || a.index - b.index);
  const chunks: PreparedEvent[][] = [];
  let chunk: PreparedEvent[] = [];
  let bytes = 0;
  for (const event of sorted) {
    const first = chunk[0];
    if (
      first !== undefined &&
      (chunk.length >= MAX_BATCH_EVENTS ||
        bytes + event.size > MAX_BATCH_BYTES ||
        event.timestamp - first.timestamp >= MAX_BATCH_SPAN_MS)
    ) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(event);
    bytes += event.size;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}
