/** classify.ts: the client's errors → outcomes, without a server. Errors are shaped like google-gax's GoogleError. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  classifyEntryErrors,
  classifyWriteError,
  Code,
  describe,
  entryErrors,
  RESOURCE_EXHAUSTED_DELAY_MS,
} from '../../sinks/cloud-logging/classify.js';

const CTX = { projectId: 'my-project', endpoint: 'logging.googleapis.com:443' };

function grpcError(code: number, details: string, statusDetails?: unknown[]): Error {
  const name = Object.entries(Code).find(([, n]) => n === code)![0];
  return Object.assign(new Error(`${code} ${name}: ${details}`), { code, details, ...(statusDetails && { statusDetails }) });
}

test('transient codes are retried; RESOURCE_EXHAUSTED waits at least a little, RetryInfo wins', () => {
  for (const code of [Code.UNAVAILABLE, Code.DEADLINE_EXCEEDED, Code.INTERNAL, Code.CANCELLED, Code.UNKNOWN, Code.ABORTED]) {
    const r = classifyWriteError(grpcError(code, 'x'), 3, CTX);
    assert.equal(r.kind, 'retry', `code ${code}`);
    assert.equal((r as { delayMs?: number }).delayMs, undefined);
  }
  assert.deepEqual(classifyWriteError(grpcError(Code.RESOURCE_EXHAUSTED, 'Quota exceeded'), 3, CTX), {
    kind: 'retry',
    reason: 'RESOURCE_EXHAUSTED: Quota exceeded',
    delayMs: RESOURCE_EXHAUSTED_DELAY_MS,
  });
  const withInfo = grpcError(Code.RESOURCE_EXHAUSTED, 'Quota exceeded', [{ retryDelay: { seconds: '7', nanos: 500_000_000 } }]);
  assert.equal((classifyWriteError(withInfo, 3, CTX) as { delayMs?: number }).delayMs, 7500);
});

test('permission, authentication and not-found errors are fatal and say what to fix', () => {
  const denied = classifyWriteError(grpcError(Code.PERMISSION_DENIED, "Permission 'logging.logEntries.create' denied"), 2, CTX);
  assert.equal(denied.kind, 'fatal');
  assert.match((denied as { reason: string }).reason, /^PERMISSION_DENIED: Permission 'logging.logEntries.create' denied; the credentials need the Logs Writer role \(roles\/logging.logWriter/);
  assert.match((denied as { reason: string }).reason, /on project my-project/);
  const unauth = classifyWriteError(grpcError(Code.UNAUTHENTICATED, 'Request had invalid authentication credentials.'), 2, CTX);
  assert.match((unauth as { reason: string }).reason, /^UNAUTHENTICATED: .*; check sink.key_filename, or the Application Default Credentials/);
  const missing = classifyWriteError(grpcError(Code.NOT_FOUND, 'Requested entity was not found.'), 2, CTX);
  assert.match((missing as { reason: string }).reason, /^NOT_FOUND: .*; check sink.project_id \(my-project\)/);
  assert.equal(classifyWriteError(grpcError(Code.UNIMPLEMENTED, 'unknown service'), 2, CTX).kind, 'fatal');
});

test('credentials that cannot work are fatal, even when grpc-js reports them as UNAVAILABLE', () => {
  const plugin = grpcError(Code.UNAVAILABLE, 'Getting metadata from plugin failed with error: invalid_grant: Invalid JWT Signature.');
  assert.equal(classifyWriteError(plugin, 1, CTX).kind, 'fatal');
  const adc = new Error('Could not load the default credentials. Browse to https://cloud.google.com/docs/authentication/getting-started');
  assert.equal(classifyWriteError(adc, 1, CTX).kind, 'fatal');
  // A network failure on the way to the token endpoint is not a credentials problem.
  const tokenNet = grpcError(Code.UNAVAILABLE, 'Getting metadata from plugin failed with error: request to https://oauth2.googleapis.com/token failed, reason: ECONNRESET');
  assert.equal(classifyWriteError(tokenNet, 1, CTX).kind, 'retry');
  assert.equal(classifyWriteError(new Error('connect ECONNREFUSED 127.0.0.1:1'), 1, CTX).kind, 'retry');
});

test('INVALID_ARGUMENT without per-entry errors: invalid (the sink splits the call)', () => {
  assert.deepEqual(classifyWriteError(grpcError(Code.INVALID_ARGUMENT, 'Request payload size exceeds the limit: 10485760 bytes.'), 4, CTX), {
    kind: 'invalid',
    reason: 'INVALID_ARGUMENT: Request payload size exceeds the limit: 10485760 bytes.',
  });
});

test('per-entry errors (WriteLogEntriesPartialErrors): rejected with the reason, transient ones retried, the rest written', () => {
  const details = [
    {
      logEntryErrors: {
        '4': { code: Code.INVALID_ARGUMENT, message: 'Log entry with size 300.0K exceeds maximum size of 256.0K' },
        '1': { code: Code.INVALID_ARGUMENT, message: 'bad timestamp' },
        '2': { code: Code.UNAVAILABLE, message: 'try again' },
        '9': { code: Code.INVALID_ARGUMENT, message: 'index out of range is ignored' },
      },
    },
  ];
  assert.deepEqual(classifyWriteError(grpcError(Code.INVALID_ARGUMENT, 'bad timestamp', details), 5, CTX), {
    kind: 'entries',
    rejected: [
      { index: 1, reason: 'INVALID_ARGUMENT: bad timestamp' },
      { index: 4, reason: 'INVALID_ARGUMENT: Log entry with size 300.0K exceeds maximum size of 256.0K' },
    ],
    retry: [2],
    retryReason: 'UNAVAILABLE: try again',
    fatal: null,
  });
  const denied = classifyEntryErrors(new Map([[0, { code: Code.PERMISSION_DENIED, message: 'denied' }]]), 2, CTX);
  assert.equal(denied.kind, 'entries');
  assert.match(String((denied as { fatal: string | null }).fatal), /^PERMISSION_DENIED: denied; .*roles\/logging.logWriter/);
  assert.deepEqual(classifyEntryErrors(new Map(), 2, CTX), { kind: 'written' });
});

test('entryErrors reads only the partial-errors detail', () => {
  assert.equal(entryErrors(undefined), null);
  assert.equal(entryErrors([{ reason: 'RATE_LIMIT_EXCEEDED' }]), null);
  assert.deepEqual(entryErrors([{ reason: 'x' }, { logEntryErrors: { '0': { code: 3, message: 'm' } } }]), new Map([[0, { code: 3, message: 'm' }]]));
});

test('describe: code name and the service message, once', () => {
  assert.equal(describe({ code: 14, details: 'No connection established', message: '14 UNAVAILABLE: No connection established' }), 'UNAVAILABLE: No connection established');
  assert.equal(describe({ code: 3, message: '3 INVALID_ARGUMENT: x' }), 'INVALID_ARGUMENT: x');
  assert.equal(describe({ message: 'boom' }), 'boom');
});
