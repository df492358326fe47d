/**
 * What CloudWatch Logs (or the SDK, or the network) answered, as a decision. Pure functions: no I/O.
 *
 * Errors are read by their code, which the SDK puts in `name` (from the awsJson1.1 `__type` field or the
 * `x-amzn-ErrorType` header). https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutLogEvents.html
 * (Errors) and https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/CommonErrors.html.
 */
import type { RejectedLogEventsInfo } from '@aws-sdk/client-cloudwatch-logs';

export type ErrorClass =
  /** DataAlreadyAcceptedException: the events are stored (from an earlier request). */
  | { readonly kind: 'stored' }
  /** ResourceNotFoundException: the group or the stream is missing; create it and send again. */
  | { readonly kind: 'missing'; readonly what: 'group' | 'stream'; readonly reason: string }
  /** ResourceAlreadyExistsException: a create found the group or stream there already, which is what it wanted. */
  | { readonly kind: 'exists' }
  /** InvalidParameterException: the request breaks a rule; sending it again as it is cannot succeed. */
  | { readonly kind: 'invalid'; readonly reason: string }
  | { readonly kind: 'retry'; readonly reason: string }
  | { readonly kind: 'fatal'; readonly reason: string };

/** Retried with backoff: the service asks to slow down, is briefly unavailable, or a credential is being renewed. */
const RETRYABLE = new Set([
  'ThrottlingException',
  'ServiceUnavailableException',
  'OperationAbortedException', // a conflicting operation on the same resource (two agents creating one group)
  'InternalFailure',
  'ServiceUnavailable',
  'RequestTimeout',
  'RequestTimeoutException',
  'ExpiredTokenException', // temporary credentials expired between the SDK's refreshes: the next send refreshes them
  'ExpiredToken',
  'RequestExpired',
  'InvalidSequenceTokenException', // no longer returned (sequence tokens are ignored); harmless to send again
]);

/** The credentials are wrong: nothing but an operator fixes them. */
const BAD_CREDENTIALS = new Set([
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'MissingAuthenticationToken',
]);

/** Node and SDK transport failures: nothing is known to be stored, send again. */
const NETWORK = /^(ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|ECONNABORTED|EPROTO|ERR_SOCKET_CONNECTION_TIMEOUT)$/;

export const PERMISSIONS_HINT =
  'the credentials lack a permission: logs:PutLogEvents and logs:CreateLogStream on the log group' +
  ' (with create_group, also logs:CreateLogGroup; with retention_days, logs:PutRetentionPolicy)';

const CREDENTIALS_HINT =
  'check the AWS credentials the default provider chain found (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, the instance or task role)';

/** An error thrown by `client.send()`. */
export function classifyError(err: unknown): ErrorClass {
  const e = (err ?? {}) as { name?: string; message?: string; code?: string; $fault?: string; $metadata?: { httpStatusCode?: number } };
  const name = e.name ?? 'Error';
  const message = e.message ?? String(err);
  const reason = `${name}: ${message}`;
  if (name === 'DataAlreadyAcceptedException') return { kind: 'stored' };
  if (name === 'ResourceNotFoundException') {
    return { kind: 'missing', what: /log group/i.test(message) ? 'group' : 'stream', reason };
  }
  if (name === 'ResourceAlreadyExistsException') return { kind: 'exists' };
  if (name === 'InvalidParameterException') return { kind: 'invalid', reason };
  if (RETRYABLE.has(name)) return { kind: 'retry', reason };
  if (name === 'AccessDeniedException') return { kind: 'fatal', reason: `${reason}; ${PERMISSIONS_HINT}` };
  if (BAD_CREDENTIALS.has(name)) return { kind: 'fatal', reason: `${reason}; ${CREDENTIALS_HINT}` };
  if (name === 'LimitExceededException') return { kind: 'fatal', reason: `${reason}; an account quota (log groups, streams) is reached` };
  // The default chain found no credentials now: at start that is a configuration problem (see sink.start), during a
  // run a refresh that failed (instance metadata unreachable for a moment), which a later attempt may get.
  if (name === 'CredentialsProviderError') return { kind: 'retry', reason: `no AWS credentials: ${message}` };
  const status = e.$metadata?.httpStatusCode;
  if (e.$fault === 'server' || (status !== undefined && status >= 500)) return { kind: 'retry', reason };
  if (e.$fault === 'client' || (status !== undefined && status >= 400)) return { kind: 'fatal', reason };
  if (e.code !== undefined && NETWORK.test(e.code)) return { kind: 'retry', reason: `network: ${reason}` };
  if (/region is missing/i.test(message)) return { kind: 'fatal', reason: 'no AWS region: set sink.region or AWS_REGION' };
  // TimeoutError, AbortError, a socket closed mid-response, an unreadable body from a proxy: send again.
  return { kind: 'retry', reason };
}

/** One event CloudWatch refused, by its position in the request. */
export interface RefusedEvent {
  readonly position: number;
  readonly reason: string;
}

/**
 * The events a PutLogEvents response names in `rejectedLogEventsInfo`, out of `count` sent (the rest are stored):
 * - tooOldLogEventEndIndex ("the index of the last log event that is too old; this field is exclusive"): events
 *   [0, end) are older than 14 days;
 * - expiredLogEventEndIndex: events [0, end) are older than the log group's retention (read as exclusive too, as the
 *   CloudWatch agent reads it);
 * - tooNewLogEventStartIndex ("inclusive"): events [start, count) are more than 2 hours ahead.
 * The request was sorted by timestamp, so each kind is a run at one end. None of them can succeed when sent again.
 */
export function refusedEvents(info: RejectedLogEventsInfo | undefined, count: number): RefusedEvent[] {
  if (!info) return [];
  const reasons = new Map<number, string>();
  const clamp = (n: number | undefined, fallback: number): number =>
    n === undefined || !Number.isFinite(n) ? fallback : Math.max(0, Math.min(count, Math.trunc(n)));
  const expiredEnd = clamp(info.expiredLogEventEndIndex, 0);
  for (let i = 0; i < expiredEnd; i++) {
    reasons.set(i, "CloudWatch Logs rejected the event: older than the log group's retention (rejectedLogEventsInfo.expiredLogEventEndIndex)");
  }
  const tooOldEnd = clamp(info.tooOldLogEventEndIndex, 0);
  for (let i = 0; i < tooOldEnd; i++) {
    if (!reasons.has(i)) reasons.set(i, 'CloudWatch Logs rejected the event: older than 14 days (rejectedLogEventsInfo.tooOldLogEventEndIndex)');
  }
  const tooNewStart = clamp(info.tooNewLogEventStartIndex, count);
  for (let i = tooNewStart; i < count; i++) {
    reasons.set(i, "CloudWatch Logs rejected the event: more than 2 hours ahead of CloudWatch's clock; check this host's clock (rejectedLogEventsInfo.tooNewLogEventStartIndex)");
  }
  return [...reasons].sort((a, b) => a[0] - b[0]).map(([position, reason]) => ({ position, reason }));
}
