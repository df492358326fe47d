/** classify.ts: SDK errors and rejectedLogEventsInfo to decisions (pure). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AccessDeniedException,
  DataAlreadyAcceptedException,
  InvalidParameterException,
  LimitExceededException,
  ResourceAlreadyExistsException,
  ResourceNotFoundException,
  ServiceUnavailableException,
  ThrottlingException,
  UnrecognizedClientException,
} from '@aws-sdk/client-cloudwatch-logs';
import { classifyError, refusedEvents } from '../../sinks/cloudwatch/classify.js';

const meta = { $metadata: { httpStatusCode: 400 } };

test('service errors by code', () => {
  assert.deepEqual(classifyError(new DataAlreadyAcceptedException({ message: 'already accepted', ...meta })), { kind: 'stored' });
  assert.deepEqual(classifyError(new ResourceAlreadyExistsException({ message: 'exists', ...meta })), { kind: 'exists' });
  assert.deepEqual(classifyError(new ResourceNotFoundException({ message: 'The specified log group does not exist.', ...meta })), {
    kind: 'missing', what: 'group', reason: 'ResourceNotFoundException: The specified log group does not exist.',
  });
  assert.equal((classifyError(new ResourceNotFoundException({ message: 'The specified log stream does not exist.', ...meta })) as { what: string }).what, 'stream');
  assert.equal(classifyError(new InvalidParameterException({ message: 'Upload too large', ...meta })).kind, 'invalid');
  assert.deepEqual(classifyError(new ThrottlingException({ message: 'Rate exceeded', ...meta })), { kind: 'retry', reason: 'ThrottlingException: Rate exceeded' });
  assert.equal(classifyError(new ServiceUnavailableException({ message: 'x', $metadata: { httpStatusCode: 500 } })).kind, 'retry');
  const denied = classifyError(new AccessDeniedException({ message: 'User: u is not authorized to perform: logs:PutLogEvents', ...meta }));
  assert.equal(denied.kind, 'fatal');
  assert.match((denied as { reason: string }).reason, /^AccessDeniedException: User: u is not authorized.*; the credentials lack a permission: logs:PutLogEvents and logs:CreateLogStream/);
  const bad = classifyError(new UnrecognizedClientException({ message: 'The security token included in the request is invalid.', ...meta }));
  assert.equal(bad.kind, 'fatal');
  assert.match((bad as { reason: string }).reason, /check the AWS credentials/);
  assert.equal(classifyError(new LimitExceededException({ message: 'Resource limit exceeded.', ...meta })).kind, 'fatal');
});

test('unknown service errors by fault, transport errors retried', () => {
  const serverFault = Object.assign(new Error('boom'), { name: 'SomethingNew', $fault: 'server', $metadata: { httpStatusCode: 502 } });
  assert.equal(classifyError(serverFault).kind, 'retry');
  const clientFault = Object.assign(new Error('nope'), { name: 'SomethingElse', $fault: 'client', $metadata: { httpStatusCode: 400 } });
  assert.equal(classifyError(clientFault).kind, 'fatal');
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
  assert.deepEqual(classifyError(refused), { kind: 'retry', reason: 'network: Error: connect ECONNREFUSED 127.0.0.1:1' });
  const hangUp = Object.assign(new Error('socket hang up'), { name: 'TimeoutError', code: 'ECONNRESET', $metadata: { attempts: 1 } });
  assert.equal(classifyError(hangUp).kind, 'retry');
  const timeout = Object.assign(new Error('a request has exceeded the configured 30000 ms requestTimeout.'), { name: 'TimeoutError', code: 'ETIMEDOUT' });
  assert.equal(classifyError(timeout).kind, 'retry');
  const creds = Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' });
  assert.deepEqual(classifyError(creds), { kind: 'retry', reason: 'no AWS credentials: Could not load credentials from any providers' });
  assert.deepEqual(classifyError(new Error('Region is missing')), { kind: 'fatal', reason: 'no AWS region: set sink.region or AWS_REGION' });
});

test('refusedEvents: too old and expired lead, too new trail; indexes clamped to the request', () => {
  assert.deepEqual(refusedEvents(undefined, 5), []);
  assert.deepEqual(refusedEvents({}, 5), []);
  const r = refusedEvents({ tooOldLogEventEndIndex: 2, tooNewLogEventStartIndex: 4 }, 5);
  assert.deepEqual(r.map((x) => x.position), [0, 1, 4]);
  assert.match(r[0]!.reason, /older than 14 days \(rejectedLogEventsInfo\.tooOldLogEventEndIndex\)$/);
  assert.match(r[2]!.reason, /more than 2 hours ahead.*tooNewLogEventStartIndex/);
  const expired = refusedEvents({ expiredLogEventEndIndex: 3, tooOldLogEventEndIndex: 1 }, 4);
  assert.deepEqual(expired.map((x) => x.position), [0, 1, 2]);
  assert.ok(expired.every((x) => /retention/.test(x.reason)), 'an event both too old and expired is named once, as expired');
  assert.deepEqual(refusedEvents({ tooOldLogEventEndIndex: 99, tooNewLogEventStartIndex: -3 }, 3).map((x) => x.position), [0, 1, 2]);
  assert.deepEqual(refusedEvents({ tooNewLogEventStartIndex: 3 }, 3), []);
});
