/**
 * The CloudWatch Logs sink against the test server (test/support/cloudwatch-server.ts), through the real
 * @aws-sdk/client-cloudwatch-logs client with an endpoint override and test credentials from the environment.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { recordId, TAG_TRUNCATED, type EcsDocument, type LogRecord } from '../../src/record.js';
import type { Batch, SendResult, Sink } from '../../src/sink.js';
import { silentLogger } from '../../src/log.js';
import { createCloudWatchSink, type CloudWatchSinkConfig } from '../../sinks/cloudwatch/index.js';
import {
  startCloudWatchServer,
  TEST_AWS_ENV,
  TEST_REGION,
  type CloudWatchServerHandle,
  type CloudWatchServerOptions,
} from '../support/cloudwatch-server.js';
import { sampleRecord } from '../support/records.js';
import { batchOf as listBatch } from '../../src/pipeline/batch.js';

Object.assign(process.env, TEST_AWS_ENV);

const GROUP = '/logship/test';
const HOUR = 3600_000;
const DAY = 24 * HOUR;

function record(i: number, over: { at?: number; path?: string; message?: string; doc?: Partial<EcsDocument> } = {}): LogRecord {
  return sampleRecord(i, { ...over, at: over.at ?? Date.now() - HOUR + i, message: over.message ?? `request seq=${i} done` });
}

function batchOf(records: LogRecord[]): Batch {
  return listBatch(records);
}

function cwConfig(url: string, over: Partial<CloudWatchSinkConfig> = {}): CloudWatchSinkConfig {
  return {
    type: 'cloudwatch',
    region: TEST_REGION,
    logGroup: GROUP,
    logStream: '{host}/{file}',
    createGroup: true,
    endpoint: url,
    streamConcurrency: 4,
    maxEventBytes: 1_048_576,
    requestTimeoutMs: 5000,
    ...over,
  };
}

async function withSink(
  fn: (cw: CloudWatchServerHandle, sink: Sink) => Promise<void>,
  opts: { server?: CloudWatchServerOptions; config?: Partial<CloudWatchSinkConfig>; start?: boolean; setup?: (cw: CloudWatchServerHandle) => void } = {},
): Promise<void> {
  const cw = await startCloudWatchServer(opts.server);
  opts.setup?.(cw);
  const sink = createCloudWatchSink(cwConfig(cw.url, opts.config), { logger: silentLogger, hostName: 'agent-host' });
  try {
    if (opts.start !== false) assert.deepEqual(await sink.start(), { kind: 'delivered' });
    await fn(cw, sink);
  } finally {
    await sink.close();
    await cw.close();
  }
}

function assertKind<K extends SendResult['kind']>(r: SendResult, kind: K): asserts r is Extract<SendResult, { kind: K }> {
  assert.equal(r.kind, kind, `expected ${kind}, got ${JSON.stringify(r).slice(0, 500)}`);
}

type SentDoc = EcsDocument & { event: { id: string } };
const docs = (cw: CloudWatchServerHandle, stream?: string): SentDoc[] => cw.events(GROUP, stream).map((e) => JSON.parse(e.message) as SentDoc);
const puts = (cw: CloudWatchServerHandle) => cw.requests.filter((r) => r.operation === 'PutLogEvents');

/** Each record's id stored exactly once. */
function assertStoredOnce(cw: CloudWatchServerHandle, records: readonly LogRecord[]): void {
  const ids = docs(cw).map((d) => d.event.id);
  assert.equal(new Set(ids).size, ids.length, 'no record stored twice');
  assert.deepEqual(new Set(ids), new Set(records.map(recordId)));
}

test('start creates the group with its retention; send creates each stream and stores ECS documents', async () => {
  await withSink(
    async (cw, sink) => {
      assert.deepEqual(cw.groups.get(GROUP)?.retentionInDays, 30);
      const batch = batchOf([record(0), record(1, { path: '/var/log/app/other.log' }), record(2)]);
      assert.deepEqual(await sink.send(batch), { kind: 'delivered' });
      assert.deepEqual([...cw.groups.get(GROUP)!.streams.keys()].sort(), ['web-1/django.log', 'web-1/other.log']);
      const stored = docs(cw, 'web-1/django.log');
      assert.deepEqual(stored, [0, 2].map((i) => ({ ...batch.records[i]!.doc, event: { id: recordId(batch.records[i]!) } })));
      assert.deepEqual(cw.events(GROUP, 'web-1/django.log').map((e) => e.timestamp), [0, 2].map((i) => Date.parse(batch.records[i]!.doc['@timestamp'])));
      assert.deepEqual(cw.requests.slice(0, 2).map((r) => `${r.operation} ${r.error ?? r.status}`), ['CreateLogGroup 200', 'PutRetentionPolicy 200']);
      // The two streams are sent in parallel, so their requests interleave: compare them sorted.
      const later = cw.requests.slice(2).map((r) => `${r.operation} ${r.stream} ${r.error ?? r.status}`).sort();
      assert.deepEqual(later, [
        'CreateLogStream web-1/django.log 200', 'CreateLogStream web-1/other.log 200',
        'PutLogEvents web-1/django.log 200', 'PutLogEvents web-1/django.log ResourceNotFoundException',
        'PutLogEvents web-1/other.log 200', 'PutLogEvents web-1/other.log ResourceNotFoundException',
      ]);
      // Streams exist now: the next batch is one request per stream, and the sink never asks DescribeLogStreams.
      const before = cw.requests.length;
      assert.deepEqual(await sink.send(batchOf([record(3), record(4)])), { kind: 'delivered' });
      assert.deepEqual(cw.requests.slice(before).map((r) => r.operation), ['PutLogEvents']);
      assert.ok(!cw.requests.some((r) => r.operation === 'DescribeLogStreams'));
    },
    { config: { retentionDays: 30 } },
  );
});

test('25,000 records in one Batch: requests within 10,000 events and 1,048,576 bytes, every record stored once', async () => {
  // An ECS document is longer than 78 bytes, so 10,000 of them are over 1,048,576 bytes with the 26-byte overhead: the
  // byte limit binds first here. The 10,000-event cut itself is tested on chunkEvents (cloudwatch-encode.test.ts).
  await withSink(async (cw, sink) => {
    const records = Array.from({ length: 25_000 }, (_, i) => record(i, { at: Date.now() - HOUR + Math.floor(i / 10) }));
    assert.deepEqual(await sink.send(batchOf(records)), { kind: 'delivered' });
    const ok = puts(cw).filter((r) => r.status === 200);
    assert.equal(ok.reduce((s, r) => s + r.events!, 0), 25_000);
    for (const r of ok) assert.ok(r.events! <= 10_000 && r.bytes! <= 1_048_576, `${r.events} events, ${r.bytes} bytes`);
    for (const r of ok.slice(0, -1)) assert.ok(r.bytes! > 1_048_576 - 400, `a full request (${r.bytes} bytes)`);
    assertStoredOnce(cw, records);
  });
});

test('1,048,576 bytes per request, counting 26 bytes per event: full requests, none over', async () => {
  await withSink(async (cw, sink) => {
    const records = Array.from({ length: 40 }, (_, i) => record(i, { message: `seq=${i} ${'m'.repeat(100_000)}` }));
    assert.deepEqual(await sink.send(batchOf(records)), { kind: 'delivered' });
    const ok = puts(cw).filter((r) => r.status === 200);
    const size = ok[0]!.bytes! / ok[0]!.events!;
    assert.ok(ok.length === 4, `${ok.length} requests`);
    for (const r of ok.slice(0, -1)) {
      assert.ok(r.bytes! <= 1_048_576, `${r.bytes} <= 1048576`);
      assert.ok(r.bytes! + size > 1_048_576, `a full request (${r.bytes} bytes, ${r.events} events)`);
    }
    assertStoredOnce(cw, records);
  });
});

test('an oversized record is truncated to the per-event limit with a marker, not rejected', async () => {
  await withSink(
    async (cw, sink) => {
      const huge = record(1, { message: `seq=1 ${'é'.repeat(1_500_000)}` });
      assert.deepEqual(await sink.send(batchOf([record(0), huge, record(2)])), { kind: 'delivered' });
      const stored = cw.events(GROUP);
      assert.equal(stored.length, 3);
      const cut = stored.find((e) => e.message.includes('seq=1 '))!;
      assert.ok(Buffer.byteLength(cut.message) + 26 <= 262_144);
      const doc = JSON.parse(cut.message) as SentDoc;
      assert.ok(doc.tags?.includes(TAG_TRUNCATED));
      assert.match(doc.message, /^seq=1 é+ \[logship: truncated \d+ bytes\]$/);
      assert.equal(doc.event.id, recordId(huge));
    },
    { server: { maxEventBytes: 262_144 }, config: { maxEventBytes: 262_144 } },
  );
});

test('unsorted input is sent sorted; a 25-hour spread is sent in requests spanning under 24 hours', async () => {
  await withSink(async (cw, sink) => {
    const now = Date.now();
    const shuffled = [5, 1, 4, 0, 3, 2].map((k) => record(k, { at: now - HOUR + k * 1000 }));
    assert.deepEqual(await sink.send(batchOf(shuffled)), { kind: 'delivered' });
    assert.deepEqual(docs(cw).map((d) => d.message), [0, 1, 2, 3, 4, 5].map((k) => `request seq=${k} done`));

    const spread = Array.from({ length: 26 }, (_, h) => record(100 + h, { at: now - 26 * HOUR + h * HOUR, path: '/l/spread.log' }));
    assert.deepEqual(await sink.send(batchOf(spread.reverse())), { kind: 'delivered' });
    assert.deepEqual(puts(cw).filter((r) => r.stream === 'web-1/spread.log' && r.status === 200).map((r) => r.events), [24, 2]);
    assert.equal(cw.events(GROUP, 'web-1/spread.log').length, 26);
    assert.ok(!cw.requests.some((r) => r.error === 'InvalidParameterException'));
  });
});

test('throttling: a burst is a retry; with two streams only the throttled stream is retried', async () => {
  await withSink(async (cw, sink) => {
    const first = batchOf([record(0), record(1)]);
    await sink.send(batchOf([record(99)])); // the stream exists from here on
    cw.throttleNext(2);
    assert.deepEqual(await sink.send(first), { kind: 'retry', reason: 'ThrottlingException: Rate exceeded' });
    assertKind(await sink.send(first), 'retry');
    assert.deepEqual(await sink.send(first), { kind: 'delivered' });

    await sink.send(batchOf([record(98, { path: '/l/b.log' })]));
    const mixed = batchOf([record(10), record(11, { path: '/l/b.log' }), record(12), record(13, { path: '/l/b.log' })]);
    cw.throttleNext(1);
    const result = await sink.send(mixed);
    assertKind(result, 'partial');
    assert.deepEqual(result.rejected, []);
    const throttled = result.retry;
    assert.ok(JSON.stringify(throttled) === '[0,2]' || JSON.stringify(throttled) === '[1,3]', JSON.stringify(throttled));
    assert.match(result.reason, /^2 of 4 stored, 2 to retry \(ThrottlingException: Rate exceeded\)$/);
    assert.deepEqual(await sink.send(batchOf(throttled.map((i) => mixed.records[i]!))), { kind: 'delivered' });
    assertStoredOnce(cw, [record(99), record(98, { path: '/l/b.log' }), ...first.records, ...mixed.records]);
  });
});

test('ServiceUnavailableException and a stopped server are retries; service back: delivered', async () => {
  await withSink(async (cw, sink) => {
    const batch = batchOf([record(0)]);
    cw.failNext(1, 'ServiceUnavailableException', { message: 'The service cannot complete the request.' });
    assert.deepEqual(await sink.send(batch), { kind: 'retry', reason: 'ServiceUnavailableException: The service cannot complete the request.' });
    await cw.stop();
    const down = await sink.send(batch);
    assertKind(down, 'retry');
    await cw.start();
    assert.deepEqual(await sink.send(batch), { kind: 'delivered' });
    assertStoredOnce(cw, batch.records);
  });
});

test('missing group and stream: created (retention on the new group), then the request is sent again', async () => {
  await withSink(
    async (cw, sink) => {
      assert.deepEqual(await sink.send(batchOf([record(0)])), { kind: 'delivered' });
      cw.deleteGroup(GROUP);
      assert.deepEqual(await sink.send(batchOf([record(1)])), { kind: 'delivered' });
      assert.equal(cw.groups.get(GROUP)?.retentionInDays, 7);
      assert.deepEqual(docs(cw).map((d) => d.message), ['request seq=1 done']);
      cw.deleteStream(GROUP, 'web-1/django.log');
      assert.deepEqual(await sink.send(batchOf([record(2)])), { kind: 'delivered' });
      assert.deepEqual(docs(cw).map((d) => d.message), ['request seq=2 done']);
    },
    { config: { retentionDays: 7 } },
  );
});

test('retention that could not be set on a created group is set before more events go in', async () => {
  await withSink(
    async (cw, sink) => {
      cw.failNext(1, 'ThrottlingException', { operation: 'PutRetentionPolicy', message: 'Rate exceeded' });
      assert.deepEqual(await sink.send(batchOf([record(0)])), { kind: 'retry', reason: 'ThrottlingException: Rate exceeded' });
      assert.ok(cw.groups.has('/app/django'));
      assert.equal(cw.groups.get('/app/django')?.retentionInDays, undefined);
      assert.deepEqual(await sink.send(batchOf([record(0)])), { kind: 'delivered' });
      assert.equal(cw.groups.get('/app/django')?.retentionInDays, 14);
      assert.equal(cw.events('/app/django').length, 1);
    },
    { config: { retentionDays: 14, logGroup: '/app/{input}' } },
  );
});

test('templated group: created on first use; create_group false: a missing group is fatal, a missing stream is created', async () => {
  await withSink(
    async (cw, sink) => {
      assert.deepEqual(await sink.send(batchOf([record(0), record(1, { doc: { stream: 'stdout' }, path: '/d/abc-json.log' })])), { kind: 'delivered' });
      assert.equal(cw.events('/app/django', 'web-1/django.log').length, 1);
      assert.equal(cw.events('/app/docker', 'web-1/abc-json.log').length, 1);
    },
    { config: { logGroup: '/app/{input}' } },
  );
  await withSink(
    async (_cw, sink) => {
      const result = await sink.send(batchOf([record(0)]));
      assert.deepEqual(result, { kind: 'fatal', reason: `log group ${GROUP} does not exist and sink.create_group is false: create it, or set create_group: true` });
    },
    { config: { createGroup: false } },
  );
  await withSink(
    async (cw, sink) => {
      assert.deepEqual(await sink.send(batchOf([record(0)])), { kind: 'delivered' });
      assert.equal(cw.events(GROUP, 'web-1/django.log').length, 1);
      assert.ok(!cw.requests.some((r) => r.operation === 'CreateLogGroup'));
    },
    { config: { createGroup: false }, setup: (cw) => cw.createGroup(GROUP) },
  );
});

test('rejectedLogEventsInfo: expired and too-new events are dead-lettered with the reason; the rest are stored', async () => {
  // The group's retention (1 day, set by someone else) is shorter than the sink knows: CloudWatch says which expired.
  await withSink(
    async (cw, sink) => {
      const now = Date.now();
      const batch = batchOf([
        record(0, { at: now - 2 * DAY }), record(1, { at: now - 2 * DAY, path: '/l/b.log' }),
        record(2), record(3, { at: now - 3 * DAY }), record(4, { path: '/l/b.log' }),
      ]);
      const result = await sink.send(batch);
      assertKind(result, 'partial');
      assert.deepEqual(result.retry, []);
      assert.deepEqual(result.rejected.map((r) => r.index), [0, 1, 3]);
      assert.match(result.rejected[0]!.reason, /older than the log group's retention \(rejectedLogEventsInfo\.expiredLogEventEndIndex\)$/);
      assert.match(result.reason, /^2 of 5 stored, 3 rejected/);
      assert.deepEqual(docs(cw).map((d) => d.message).sort(), ['request seq=2 done', 'request seq=4 done']);
    },
    { setup: (cw) => cw.createGroup(GROUP, 1) },
  );
  // CloudWatch's clock 3 hours behind this host's: what is "now" here is too new there.
  await withSink(
    async (cw, sink) => {
      const batch = batchOf([record(0, { at: Date.now() - 4 * HOUR }), record(1, { at: Date.now() })]);
      const result = await sink.send(batch);
      assertKind(result, 'partial');
      assert.deepEqual(result.rejected.map((r) => r.index), [1]);
      assert.match(result.rejected[0]!.reason, /more than 2 hours ahead of CloudWatch's clock; check this host's clock/);
      assert.deepEqual(docs(cw).map((d) => d.message), ['request seq=0 done']);
    },
    { server: { now: () => Date.now() - 3 * HOUR } },
  );
});

test('older than 14 days: dead-lettered without being sent; more than 2 hours ahead: sent at the send time', async () => {
  await withSink(async (cw, sink) => {
    const before = Date.now();
    const batch = batchOf([record(0, { at: before - 20 * DAY }), record(1), record(2, { at: before + 5 * HOUR })]);
    const result = await sink.send(batch);
    assertKind(result, 'partial');
    assert.deepEqual(result.rejected.map((r) => r.index), [0]);
    assert.match(result.rejected[0]!.reason, /^too old for CloudWatch Logs: @timestamp .* is more than 14 days before the send time$/);
    const stored = cw.events(GROUP);
    assert.equal(stored.length, 2);
    assert.ok(!stored.some((e) => e.message.includes('seq=0 ')), 'the old record was not sent');
    const ahead = stored.find((e) => e.message.includes('seq=2 '))!;
    assert.ok(ahead.timestamp >= before && ahead.timestamp <= Date.now());
    assert.equal((JSON.parse(ahead.message) as SentDoc)['@timestamp'], batch.records[2]!.doc['@timestamp']);
  });
});

test('DataAlreadyAcceptedException counts as delivered', async () => {
  await withSink(async (cw, sink) => {
    await sink.send(batchOf([record(0)]));
    cw.alreadyAcceptedNext(1);
    assert.deepEqual(await sink.send(batchOf([record(1)])), { kind: 'delivered' });
    assert.equal(puts(cw).at(-1)?.error, 'DataAlreadyAcceptedException');
    assertStoredOnce(cw, [record(0), record(1)]);
  });
});

test('access denied and bad credentials are fatal, with what to fix', async () => {
  await withSink(async (cw, sink) => {
    cw.deny('PutLogEvents');
    const denied = await sink.send(batchOf([record(0)]));
    assertKind(denied, 'fatal');
    assert.match(denied.reason, /^AccessDeniedException: User: arn:aws:iam::123456789012:user\/logship is not authorized to perform: logs:PutLogEvents .*; the credentials lack a permission/);
  });
  const secret = process.env['AWS_SECRET_ACCESS_KEY'];
  process.env['AWS_SECRET_ACCESS_KEY'] = 'not-the-secret';
  try {
    await withSink(async (_cw, sink) => {
      const bad = await sink.send(batchOf([record(0)]));
      assertKind(bad, 'fatal');
      assert.match(bad.reason, /^InvalidSignatureException: .*check the AWS credentials/);
      assert.ok(!bad.reason.includes('not-the-secret'));
    }, { start: false });
  } finally {
    process.env['AWS_SECRET_ACCESS_KEY'] = secret;
  }
});

test('start: no credentials from the provider chain, or no region, is fatal', async () => {
  const saved = { ...process.env };
  delete process.env['AWS_ACCESS_KEY_ID'];
  delete process.env['AWS_SECRET_ACCESS_KEY'];
  try {
    await withSink(async (_cw, sink) => {
      const result = await sink.start();
      assertKind(result, 'fatal');
      assert.match(result.reason, /^no AWS credentials from the default provider chain/);
    }, { start: false });
    process.env['AWS_ACCESS_KEY_ID'] = saved['AWS_ACCESS_KEY_ID'];
    process.env['AWS_SECRET_ACCESS_KEY'] = saved['AWS_SECRET_ACCESS_KEY'];
    delete process.env['AWS_REGION'];
    await withSink(async (_cw, sink) => {
      assert.deepEqual(await sink.start(), { kind: 'fatal', reason: 'no AWS region: set sink.region, or AWS_REGION in the environment' });
    }, { start: false, config: { region: undefined } });
  } finally {
    Object.assign(process.env, saved);
  }
});

test('a lost response is a retry; CloudWatch cannot tell the re-sent events, event.id can', async () => {
  await withSink(async (cw, sink) => {
    await sink.send(batchOf([record(0)]));
    cw.dropResponseNext(1);
    const batch = batchOf([record(1), record(2)]);
    assertKind(await sink.send(batch), 'retry');
    assert.deepEqual(await sink.send(batch), { kind: 'delivered' });
    const ids = docs(cw).map((d) => d.event.id);
    assert.equal(ids.length, 5, 'stored twice: at least once, not exactly once');
    assert.deepEqual(new Set(ids), new Set([record(0), ...batch.records].map(recordId)));
  });
});

test('one request at a time per stream, streams in parallel up to stream_concurrency, across concurrent sends', async () => {
  await withSink(
    async (cw, sink) => {
      const streams = ['a', 'b', 'c', 'd', 'e', 'f'];
      const mk = (from: number) => batchOf(Array.from({ length: 600 }, (_, i) => record(from + i, { path: `/l/${streams[i % 6]}.log`, message: `seq=${from + i} ${'p'.repeat(10_000)}` })));
      const [b1, b2] = [mk(0), mk(1000)];
      await sink.send(batchOf(streams.map((s, i) => record(5000 + i, { path: `/l/${s}.log` })))); // create the streams
      cw.delayMs = 20;
      const results = await Promise.all([sink.send(b1), sink.send(b2)]);
      assert.deepEqual(results, [{ kind: 'delivered' }, { kind: 'delivered' }]);
      assert.equal(cw.maxInFlight.perStream, 1);
      assert.equal(cw.maxInFlight.all, 3);
      assert.equal(cw.events(GROUP).length, 1206);
    },
    { config: { streamConcurrency: 3 } },
  );
});

test('InvalidParameterException: the request is halved to find the refused event; the others are stored', async () => {
  await withSink(async (cw, sink) => {
    await sink.send(batchOf([record(99)]));
    cw.failNext(1, 'InvalidParameterException', { message: 'something the test server made up' });
    const batch = batchOf([0, 1, 2, 3, 4].map((i) => record(i)));
    assert.deepEqual(await sink.send(batch), { kind: 'delivered' });
    assertStoredOnce(cw, [record(99), ...batch.records]);
  });
  // An endpoint with the older 256 KB event limit while the sink is set for 1 MB: that one event is dead-lettered.
  await withSink(
    async (cw, sink) => {
      const batch = batchOf([0, 1, 2, 3, 4].map((i) => record(i, { message: `seq=${i} ${'w'.repeat(i === 3 ? 500_000 : 10)}` })));
      const result = await sink.send(batch);
      assertKind(result, 'partial');
      assert.deepEqual(result.retry, []);
      assert.deepEqual(result.rejected.map((r) => r.index), [3]);
      assert.match(result.rejected[0]!.reason, /^CloudWatch Logs refused the event: InvalidParameterException: Log event too large: \d+ bytes exceeds limit of 262144$/);
      assert.equal(cw.events(GROUP).length, 4);
    },
    { server: { maxEventBytes: 262_144 } },
  );
});
