/**
 * What a WriteLogEntries call answered, as an outcome for the entries of that call. Pure functions, no I/O.
 *
 * gRPC status codes: https://grpc.github.io/grpc/core/md_doc_statuscodes.html; how Google APIs use them:
 * https://cloud.google.com/apis/design/errors. With `partial_success: true` the service writes the valid entries and
 * fails the call with the status of one failed entry plus a `WriteLogEntriesPartialErrors` detail mapping entry
 * indexes to their own status; "failed requests for which no entries are written will not include per-entry errors"
 * (WriteLogEntriesRequest.partial_success in google/logging/v2/logging.proto). The client decodes that detail into
 * `err.statusDetails`.
 */
import type { Rejection } from '../../src/sink.js';

/** grpc.status, by number (the client's errors carry the number as `code`). */
export const Code = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;
const CODE_NAMES = Object.fromEntries(Object.entries(Code).map(([name, n]) => [n, name])) as Record<number, string>;

/**
 * Nothing is known to be written; sending again is safe (insertId + timestamp make a duplicate harmless). The client
 * itself retries nothing (the sink turns its retries off), so these reach core, which backs off.
 */
const RETRYABLE = new Set<number>([
  Code.CANCELLED, // the connection went away under the call
  Code.UNKNOWN,
  Code.DEADLINE_EXCEEDED,
  Code.RESOURCE_EXHAUSTED,
  Code.ABORTED,
  Code.INTERNAL,
  Code.UNAVAILABLE,
  Code.DATA_LOSS,
]);

/** Every call would fail the same way until an operator acts. */
const FATAL = new Set<number>([Code.PERMISSION_DENIED, Code.UNAUTHENTICATED, Code.NOT_FOUND, Code.UNIMPLEMENTED]);

/**
 * "Write requests per minute" is a per-minute quota, and RESOURCE_EXHAUSTED comes with no rate headers: without a
 * RetryInfo from the service, wait at least this long (core's backoff may wait longer; it caps at max_backoff).
 */
export const RESOURCE_EXHAUSTED_DELAY_MS = 2_000;
/** A longer RetryInfo delay is treated as this. */
export const MAX_RETRY_DELAY_MS = 10 * 60_000;

/** The outcome of one call, indexes relative to its entries. */
export type WriteOutcome =
  | { readonly kind: 'written' }
  /** Per-entry errors; every entry not listed is written. */
  | {
      readonly kind: 'entries';
      readonly rejected: readonly Rejection[];
      readonly retry: readonly number[];
      readonly retryReason: string;
      readonly fatal: string | null;
    }
  | { readonly kind: 'retry'; readonly reason: string; readonly delayMs?: number }
  | { readonly kind: 'fatal'; readonly reason: string }
  /** The call was refused as invalid and wrote nothing, without saying which entries: the sink splits it. */
  | { readonly kind: 'invalid'; readonly reason: string };

/** For the operator hints of fatal reasons. */
export interface ClassifyContext {
  readonly projectId: string;
  readonly endpoint: string;
}

/** What the client's errors look like (google-gax GoogleError over a grpc-js ServiceError). */
interface CallError {
  code?: unknown;
  details?: unknown;
  message?: unknown;
  statusDetails?: unknown;
}

export function classifyWriteError(err: unknown, entries: number, ctx: ClassifyContext): WriteOutcome {
  const e = (typeof err === 'object' && err !== null ? err : { message: String(err) }) as CallError;
  const text = describe(e);
  if (typeof e.code !== 'number') {
    // Not a gRPC status: the auth library or the client failed before the call.
    return CREDENTIALS_PROBLEM.test(text)
      ? { kind: 'fatal', reason: `${text}${credentialsHint()}` }
      : { kind: 'retry', reason: text };
  }
  const code = e.code;
  const perEntry = entryErrors(e.statusDetails);
  if (perEntry !== null) return classifyEntryErrors(perEntry, entries, ctx);
  if (code === Code.UNAVAILABLE && CREDENTIALS_PROBLEM.test(text)) {
    // grpc-js reports a failure of the credentials plugin (no ADC, a revoked key) as UNAVAILABLE.
    return { kind: 'fatal', reason: `${text}${credentialsHint()}` };
  }
  if (RETRYABLE.has(code)) {
    const asked = retryDelay(e.statusDetails);
    const delayMs = asked ?? (code === Code.RESOURCE_EXHAUSTED ? RESOURCE_EXHAUSTED_DELAY_MS : undefined);
    return delayMs === undefined ? { kind: 'retry', reason: text } : { kind: 'retry', reason: text, delayMs };
  }
  if (FATAL.has(code)) return { kind: 'fatal', reason: `${text}${operatorHint(code, ctx)}` };
  // INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE, ALREADY_EXISTS: refused as sent.
  return { kind: 'invalid', reason: text };
}

/** Per-entry statuses → rejected (for good), retry, or fatal when an entry was refused for want of permission. */
export function classifyEntryErrors(
  errors: ReadonlyMap<number, { code: number; message: string }>,
  entries: number,
  ctx: ClassifyContext,
): WriteOutcome {
  const rejected: Rejection[] = [];
  const retry: number[] = [];
  let retryReason = '';
  let fatal: string | null = null;
  for (const [index, status] of [...errors].sort((a, b) => a[0] - b[0])) {
    if (!Number.isInteger(index) || index < 0 || index >= entries) continue;
    const reason = `${CODE_NAMES[status.code] ?? `code ${status.code}`}: ${status.message || 'no message'}`;
    if (FATAL.has(status.code)) fatal ??= `${reason}${operatorHint(status.code, ctx)}`;
    else if (RETRYABLE.has(status.code)) {
      retry.push(index);
      retryReason ||= reason;
    } else rejected.push({ index, reason });
  }
  if (rejected.length === 0 && retry.length === 0 && fatal === null) return { kind: 'written' };
  return { kind: 'entries', rejected, retry, retryReason, fatal };
}

/** The WriteLogEntriesPartialErrors detail, decoded by the client: `{ logEntryErrors: { "3": { code, message } } }`. */
export function entryErrors(statusDetails: unknown): Map<number, { code: number; message: string }> | null {
  if (!Array.isArray(statusDetails)) return null;
  for (const detail of statusDetails) {
    const map = (detail as { logEntryErrors?: unknown } | null)?.logEntryErrors;
    if (typeof map !== 'object' || map === null) continue;
    const out = new Map<number, { code: number; message: string }>();
    for (const [k, v] of Object.entries(map)) {
      const status = v as { code?: unknown; message?: unknown } | null;
      out.set(Number(k), { code: typeof status?.code === 'number' ? status.code : Code.UNKNOWN, message: String(status?.message ?? '') });
    }
    return out;
  }
  return null;
}

/** A google.rpc.RetryInfo detail's delay, if the service sent one. */
function retryDelay(statusDetails: unknown): number | undefined {
  if (!Array.isArray(statusDetails)) return undefined;
  for (const detail of statusDetails) {
    const delay = (detail as { retryDelay?: { seconds?: unknown; nanos?: unknown } } | null)?.retryDelay;
    if (delay === undefined || delay === null) continue;
    const ms = Number(delay.seconds ?? 0) * 1000 + Math.floor(Number(delay.nanos ?? 0) / 1e6);
    if (Number.isFinite(ms) && ms >= 0) return Math.min(ms, MAX_RETRY_DELAY_MS);
  }
  return undefined;
}

/** "PERMISSION_DENIED: <the service's message>". */
export function describe(e: CallError): string {
  const details = typeof e.details === 'string' && e.details !== '' ? e.details : undefined;
  if (typeof e.code === 'number') {
    const name = CODE_NAMES[e.code] ?? `code ${e.code}`;
    const message = details ?? String(e.message ?? '').replace(/^\d+ [A-Z_]+: /, '');
    return `${name}: ${message || 'no message'}`;
  }
  return String(e.message ?? 'unknown error');
}

/** Messages of credentials that will not start working by themselves (google-auth-library's wording). */
const CREDENTIALS_PROBLEM =
  /Could not load the default credentials|invalid_grant|invalid_client|unauthorized_client|No key or keyFile set|Invalid JWT|account not found|private key|DECODER routines|Unable to detect a Project Id/i;

function credentialsHint(): string {
  return '; check sink.key_filename, or the Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, the attached service account)';
}

function operatorHint(code: number, ctx: ClassifyContext): string {
  switch (code) {
    case Code.PERMISSION_DENIED:
      return `; the credentials need the Logs Writer role (roles/logging.logWriter, permission logging.logEntries.create) on project ${ctx.projectId}, and the Cloud Logging API must be enabled there`;
    case Code.UNAUTHENTICATED:
      return credentialsHint();
    case Code.NOT_FOUND:
      return `; check sink.project_id (${ctx.projectId}) and sink.resource`;
    case Code.UNIMPLEMENTED:
      return `; ${ctx.endpoint} does not serve google.logging.v2.LoggingServiceV2 (check sink.api_endpoint)`;
    default:
      return '';
  }
}
