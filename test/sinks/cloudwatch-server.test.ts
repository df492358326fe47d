/**
 * The test CloudWatch Logs server's own behaviours, driven with the SDK client directly (and raw fetch for the wire
 * shapes), so that "the server would refuse it" in the sink tests means what CloudWatch means.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  DescribeLogStreamsCommand,
  PutLogEventsCommand,
  PutRetentionPolicyCommand,
  type InputLogEvent,
} from '@aws-sdk/client-cloudwatch-logs';
import { startCloudWatchServer, TEST_AWS_ENV, type CloudWatchServerHandle } from '../support/cloudwatch-server.js';

Object.assign(process.env, TEST_AWS_ENV);
const HOUR = 3600_000;
const DAY = 24 * HOUR;

async function withClient(fn: (cw: CloudWatchServerHandle, client: CloudWatchLogsClient) => Promise<void>, maxEventBytes?: number): Promise<void> {
  const cw = await startCloudWatchServer(maxEventBytes === undefined ? {} : { maxEventBytes });
  const client = new CloudWatchLogsClient({ endpoint: cw.url, maxAttempts: 1 });
  try {
    await client.send(new CreateLogGroupCommand({ logGroupName: 'g' }));
    await client.send(new CreateLogStreamCommand({ logGroupName: 'g', logStreamName: 's' }));
    await fn(cw, client);
  } finally {
    client.destroy();
    await cw.close();
  }
}

const put = (client: CloudWatchLogsClient, logEvents: InputLogEvent[]) =>
  client.send(new PutLogEventsCommand({ logGroupName: 'g', logStreamName: 's', logEvents }));

/** The error code and message a request fails with. */
async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return `${(err as Error).name}: ${(err as Error).message}`;
  }
  return 'no error';
}

test('batch limits: 1,048,576 bytes with 26 per event, 10,000 events, chronological order, 24-hour span, event size', async () => {
  await withClient(async (cw, client) => {
    const now = Date.now();
    // 4 × (262,118 + 26) = 1,048,576: accepted; one byte more: refused.
    const exact = Array.from({ length: 4 }, () => ({ timestamp: now, message: 'x'.repeat(262_118) }));
    assert.equal((await put(client, exact)).rejectedLogEventsInfo, undefined);
    exact[3] = { timestamp: now, message: 'x'.repeat(262_119) };
    assert.equal(await failure(put(client, exact)), 'InvalidParameterException: Upload too large: 1048577 bytes exceeds limit of 1048576');

    const many = Array.from({ length: 10_001 }, (_, i) => ({ timestamp: now + i, message: 'y' }));
    assert.match(await failure(put(client, many)), /^InvalidParameterException: .*Member must have length less than or equal to 10000$/);
    await put(client, many.slice(0, 10_000));

    assert.equal(
      await failure(put(client, [{ timestamp: now, message: 'b' }, { timestamp: now - 1, message: 'a' }])),
      'InvalidParameterException: Log events in a single PutLogEvents request must be in chronological order.',
    );
    assert.equal(
      await failure(put(client, [{ timestamp: now - 25 * HOUR, message: 'a' }, { timestamp: now, message: 'b' }])),
      'InvalidParameterException: The batch of log events in a single PutLogEvents request cannot span more than 24 hours.',
    );
    // The span counts valid events only: a too-old event does not stretch it.
    await put(client, [{ timestamp: now - 15 * DAY, message: 'old' }, { timestamp: now - HOUR, message: 'c' }, { timestamp: now, message: 'd' }]);
    assert.equal(cw.events('g', 's').length, 4 + 10_000 + 2);
  });
  await withClient(async (_cw, client) => {
    assert.equal(
      await failure(put(client, [{ timestamp: Date.now(), message: 'z'.repeat(262_119) }])),
      'InvalidParameterException: Log event too large: 262145 bytes exceeds limit of 262144',
    );
  }, 262_144);
});

test('rejectedLogEventsInfo: too old (14 days), expired (retention), too new (2 hours); the rest stored', async () => {
  await withClient(async (cw, client) => {
    const now = Date.now();
    const events = [now - 20 * DAY, now - 15 * DAY, now - 20 * HOUR, now, now + 3 * HOUR].map((timestamp, i) => ({ timestamp, message: `e${i}` }));
    const r = await put(client, events);
    assert.deepEqual(r.rejectedLogEventsInfo, { tooOldLogEventEndIndex: 2, tooNewLogEventStartIndex: 4 });
    assert.deepEqual(cw.events('g', 's').map((e) => e.message), ['e2', 'e3']);
    await client.send(new PutRetentionPolicyCommand({ logGroupName: 'g', retentionInDays: 1 }));
    const r2 = await put(client, [{ timestamp: now - 2 * DAY, message: 'expired' }, { timestamp: now - HOUR, message: 'kept' }]);
    assert.deepEqual(r2.rejectedLogEventsInfo, { expiredLogEventEndIndex: 1 });
    assert.deepEqual(cw.events('g', 's').map((e) => e.message), ['e2', 'e3', 'kept']);
    assert.match(await failure(client.send(new PutRetentionPolicyCommand({ logGroupName: 'g', retentionInDays: 10 }))), /^InvalidParameterException: .*retentionInDays/);
  });
});

test('missing and existing resources, DescribeLogStreams paging and its low quota', async () => {
  await withClient(async (_cw, client) => {
    assert.equal(
      await failure(client.send(new PutLogEventsCommand({ logGroupName: 'nope', logStreamName: 's', logEvents: [{ timestamp: Date.now(), message: 'x' }] }))),
      'ResourceNotFoundException: The specified log group does not exist.',
    );
    assert.equal(
      await failure(client.send(new PutLogEventsCommand({ logGroupName: 'g', logStreamName: 'nope', logEvents: [{ timestamp: Date.now(), message: 'x' }] }))),
      'ResourceNotFoundException: The specified log stream does not exist.',
    );
    assert.equal(await failure(client.send(new CreateLogGroupCommand({ logGroupName: 'g' }))), 'ResourceAlreadyExistsException: The specified log group already exists');
    assert.equal(await failure(client.send(new CreateLogStreamCommand({ logGroupName: 'g', logStreamName: 's' }))), 'ResourceAlreadyExistsException: The specified log stream already exists');
    assert.match(await failure(client.send(new CreateLogStreamCommand({ logGroupName: 'g', logStreamName: 'a:b' }))), /^InvalidParameterException/);
    for (const name of ['s2', 's3']) await client.send(new CreateLogStreamCommand({ logGroupName: 'g', logStreamName: name }));
    const page1 = await client.send(new DescribeLogStreamsCommand({ logGroupName: 'g', limit: 2 }));
    assert.deepEqual(page1.logStreams?.map((s) => s.logStreamName), ['s', 's2']);
    const page2 = await client.send(new DescribeLogStreamsCommand({ logGroupName: 'g', limit: 2, nextToken: page1.nextToken }));
    assert.deepEqual(page2.logStreams?.map((s) => s.logStreamName), ['s3']);
    const results = await Promise.all(Array.from({ length: 30 }, () => failure(client.send(new DescribeLogStreamsCommand({ logGroupName: 'g', limit: 1 })))));
    assert.ok(results.includes('ThrottlingException: Rate exceeded'), 'more than 25 per second are throttled');
  });
});

test('wire shapes: awsJson1.1 errors with __type and HTTP 400; unsigned and wrongly signed requests refused', async () => {
  await withClient(async (cw) => {
    const res = await fetch(cw.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'Logs_20140328.PutLogEvents' },
      body: '{}',
    });
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('content-type'), 'application/x-amz-json-1.1');
    assert.deepEqual(await res.json(), { __type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' });
    cw.failNext(1, 'ServiceUnavailableException');
    const client = new CloudWatchLogsClient({ endpoint: cw.url, maxAttempts: 1 });
    const wrong = new CloudWatchLogsClient({ endpoint: cw.url, maxAttempts: 1, credentials: { accessKeyId: 'AKIDSOMEONEELSE00000', secretAccessKey: 'x' } });
    try {
      const err = await put(client, [{ timestamp: Date.now(), message: 'x' }]).catch((e: unknown) => e as { name: string; $fault: string; $metadata: { httpStatusCode: number } });
      assert.deepEqual([(err as { name: string }).name, (err as { $fault: string }).$fault, (err as { $metadata: { httpStatusCode: number } }).$metadata.httpStatusCode], ['ServiceUnavailableException', 'server', 500]);
      assert.equal(await failure(put(wrong, [{ timestamp: Date.now(), message: 'x' }])), 'UnrecognizedClientException: The security token included in the request is invalid.');
    } finally {
      client.destroy();
      wrong.destroy();
    }
  });
});
