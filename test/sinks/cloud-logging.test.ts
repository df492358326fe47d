/**
 * The Cloud Logging sink through the real @google-cloud/logging client (its generated v2 gRPC client), pointed at the
 * test server on 127.0.0.1 over plaintext gRPC with a pass-through auth client and an explicit project and resource:
 * nothing looks for credentials or a metadata server, nothing leaves loopback.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { recordId, TAG_TRUNCATED, type EcsDocument, type LogRecord } from '../../src/record.js';
import type { Batch, SendResult, Sink } from '../../src/sink.js';
import { silentLogger } from '../../src/log.js';
import { createCloudLoggingSink, type CloudLoggingSinkConfig } from '../../sinks/cloud-logging/index.js';
import { envelopeOf, type EntryContext } from '../../sinks/cloud-logging/entry.js';
import type { LoggingClient, WriteRequest } from '../../sinks/cloud-logging/client.js';
import { entrySize, MAX_ENTRY_BYTES, REQUEST_BUDGET_BYTES } from '../../sinks/cloud-logging/limits.js';
import { compileTemplate } from '../../sinks/cloud-logging/template.js';
import { guardLoopback, startCloudLoggingServer, type CloudLoggingServerHandle } from '../support/cloud-logging-server.js';
import { sampleRecord } from '../support/records.js';
import { batchOf as listBatch } from '../../src/pipeline/batch.js';

let guard: ReturnType<typeof guardLoopback>;
before(() => void (guard = guardLoopback()));
after(() => {
  guard.restore();
  assert.deepEqual(guard.offenders, [], 'no connection left loopback (metadata server, OAuth, googleapis.com)');
});

const PROJECT = 'test-project';

function record(i: number, over: Partial<EcsDocument> = {}, idPrefix = 'dev1-ino42-fp9'): LogRecord {
  return sampleRecord(i, { idPrefix, doc: { django: { status_code: 200, path: `/api/${i}` }, ...over } });
}

const records = (n: number, from = 0): LogRecord[] => Array.from({ length: n }, (_, k) => record(from + k));
const batchOf = (rs: LogRecord[]): Batch => listBatch(rs);

function clConfig(address: string, over: Partial<CloudLoggingSinkConfig> = {}): CloudLoggingSinkConfig {
  const [host, port] = address.split(':');
  return {
    type: 'cloud_logging',
    projectId: PROJECT,
    logName: 'django',
    resource: { type: 'generic_node', labels: { location: 'europe-west1', namespace: 'accreditrack', node_id: '{host}' } },
    labels: { app: 'accreditrack' },
    apiEndpoint: { host: host!, port: Number(port) },
    insecure: true,
    ...over,
  };
}

async function withSink(
  fn: (server: CloudLoggingServerHandle, sink: Sink) => Promise<void>,
  opts: { config?: Partial<CloudLoggingSinkConfig>; start?: boolean } = {},
): Promise<void> {
  const server = await startCloudLoggingServer();
  const sink = createCloudLoggingSink(clConfig(server.address, opts.config), { logger: silentLogger, hostName: 'agent-host' });
  try {
    if (opts.start !== false) assert.deepEqual(await sink.start(), { kind: 'delivered' });
    await fn(server, sink);
  } finally {
    await sink.close();
    await server.close();
  }
}

function assertKind<K extends SendResult['kind']>(r: SendResult, kind: K): asserts r is Extract<SendResult, { kind: K }> {
  assert.equal(r.kind, kind, `expected ${kind}, got ${JSON.stringify(r).slice(0, 500)}`);
}

test('start: a dry-run write, nothing stored, no credentials sent', async () => {
  await withSink(async (server) => {
    assert.equal(server.stats.dryRuns, 1);
    assert.equal(server.count(), 0);
    const seen = server.writes[0]!;
    assert.equal(seen.dryRun, true);
    assert.equal(seen.partialSuccess, true);
    assert.ok(!('authorization' in seen.metadata), 'no Authorization header');
  });
});

test('a batch is stored: jsonPayload = the ECS document, severity, resource, labels, log name, insertId, timestamp', async () => {
  await withSink(async (server, sink) => {
    const batch = batchOf([
      record(0),
      record(1, { log: { level: 'WARNING', file: { path: '/x' }, offset: 100 } }),
      record(2, { log: { level: 'ERROR', file: { path: '/x' }, offset: 200 } }),
      record(3, { log: { level: 'CRITICAL', file: { path: '/x' }, offset: 300 } }),
      record(4, { log: { level: 'DEBUG', file: { path: '/x' }, offset: 400 } }),
      record(5, { log: { file: { path: '/x' }, offset: 500 }, stream: 'stderr', container: { id: 'c0ffee' } }),
      record(6, { log: { level: 'INFO', file: { path: '/x' }, offset: 600 }, stream: 'stderr', container: { id: 'c0ffee' } }),
      record(7, { log: { file: { path: '/x' }, offset: 700 }, stream: 'stdout', container: { id: 'c0ffee' } }),
    ]);
    assert.deepEqual(await sink.send(batch), { kind: 'delivered' });
    assert.equal(server.count(), 8);
    assert.deepEqual(
      batch.records.map((r) => server.byInsertId(recordId(r))?.severity),
      ['INFO', 'WARNING', 'ERROR', 'CRITICAL', 'DEBUG', 'ERROR', 'INFO', 'DEFAULT'],
    );
    const stored = server.byInsertId('dev1-ino42-fp9-0')!;
    assert.equal(stored.logName, `projects/${PROJECT}/logs/django`);
    assert.deepEqual(stored.resource, { type: 'generic_node', labels: { location: 'europe-west1', namespace: 'accreditrack', node_id: 'web-1' } });
    assert.deepEqual(stored.labels, { app: 'accreditrack' });
    assert.equal(stored.timestamp, '2026-01-01T00:00:00.000000000Z');
    assert.deepEqual(stored.jsonPayload, batch.records[0]!.doc);
    // The size the sink computes is the size on the wire, exactly.
    const ctx: EntryContext = {
      projectId: PROJECT,
      logName: compileTemplate('django'),
      resource: { type: 'generic_node', labels: { location: ['europe-west1'], namespace: ['accreditrack'], node_id: compileTemplate('{host}') } },
      labels: { app: ['accreditrack'] },
      hostName: 'agent-host',
    };
    for (const r of batch.records) assert.equal(server.byInsertId(recordId(r))!.size, entrySize(envelopeOf(r, ctx), r.doc), recordId(r));
    assert.equal(server.writes.at(-1)!.entries, 8, 'one call');
  });
});

test('log_name and labels from template fields; a LOG_ID with "/" is URL-encoded', async () => {
  await withSink(
    async (server, sink) => {
      const docker = record(1, { stream: 'stdout', container: { id: '0123456789abcdef' }, host: { name: 'node-7' } });
      assert.deepEqual(await sink.send(batchOf([record(0), docker])), { kind: 'delivered' });
      assert.equal(server.byInsertId(recordId(record(0)))!.logName, `projects/${PROJECT}/logs/apps%2Fdjango`);
      const d = server.byInsertId(recordId(docker))!;
      assert.equal(d.logName, `projects/${PROJECT}/logs/apps%2Fdocker`);
      assert.deepEqual(d.labels, { container: '0123456789ab', source: 'docker' });
      assert.equal(d.resource?.labels['node_id'], 'node-7');
    },
    { config: { logName: 'apps/{input}', labels: { container: '{container}', source: '{input}' } } },
  );
});

test('no resource configured with insecure: global, and no metadata lookup', async () => {
  await withSink(
    async (server, sink) => {
      assert.deepEqual(await sink.send(batchOf(records(1))), { kind: 'delivered' });
      assert.deepEqual(server.byInsertId(recordId(record(0)))!.resource, { type: 'global', labels: {} });
    },
    { config: { resource: undefined } },
  );
});

test('re-sending a batch stores nothing twice: the service dedupes by insertId + timestamp', async () => {
  await withSink(async (server, sink) => {
    const batch = batchOf(records(20));
    assert.deepEqual(await sink.send(batch), { kind: 'delivered' });
    assert.deepEqual(await sink.send(batch), { kind: 'delivered' });
    assert.equal(server.count(), 20);
    assert.equal(server.stats.duplicates, 20);
    for (const r of batch.records) assert.equal(server.received.get(recordId(r)), 2);
  });
});

test('oversize records (> 256 KiB) are truncated with a marker and stored, not rejected', async () => {
  await withSink(async (server, sink) => {
    const stack = 'Traceback (most recent call last):\n' + '  File "/app/views.py", line 42, in get\n'.repeat(12_000) + 'KeyError: x';
    const huge = record(1, { error: { stack_trace: stack, type: 'KeyError' }, tags: ['t'] });
    const hugeMessage = record(2, { message: 'x'.repeat(1_000_000) });
    const result = await sink.send(batchOf([record(0), huge, hugeMessage, record(3)]));
    assert.deepEqual(result, { kind: 'delivered' });
    assert.equal(server.count(), 4);
    const h = server.byInsertId(recordId(huge))!;
    assert.ok(h.size <= MAX_ENTRY_BYTES && h.size > 240_000, `${h.size} bytes`);
    const payload = h.jsonPayload as unknown as EcsDocument;
    assert.match(payload.error!.stack_trace!, new RegExp(`…\\[truncated by logship: ${Buffer.byteLength(stack)} bytes, over the Cloud Logging entry limit\\]$`));
    assert.deepEqual(payload.tags, ['t', TAG_TRUNCATED]);
    assert.equal(payload.message, huge.doc.message);
    const m = server.byInsertId(recordId(hugeMessage))!.jsonPayload as unknown as EcsDocument;
    assert.match(m.message, /^x+ …\[truncated by logship: 1000000 bytes/);
    assert.equal(huge.doc.error!.stack_trace, stack, 'the record itself is not changed');
  });
});

test('a batch over 8 MiB is split into several calls, each under the limits; every record stored', async () => {
  await withSink(async (server, sink) => {
    const big = Array.from({ length: 60 }, (_, i) => record(i, { message: `seq=${i} ` + 'y'.repeat(200_000) }));
    const before = server.writes.length;
    assert.deepEqual(await sink.send(batchOf(big)), { kind: 'delivered' });
    const calls = server.writes.slice(before);
    assert.ok(calls.length >= 2, `${calls.length} calls`);
    for (const c of calls) assert.ok(c.bytes <= REQUEST_BUDGET_BYTES, `${c.bytes} bytes`);
    assert.equal(server.count(), 60);
  });
});

test('partial success: the entries refused are rejected with the reason, at their batch index; the rest stored', async () => {
  await withSink(async (server, sink) => {
    server.rejectEntriesWhen((e) => /request \d*7 done/.test(String(e.jsonPayload?.['message'])), 'Log entry refused: field jsonPayload.django is invalid');
    const batch = batchOf(records(30));
    const result = await sink.send(batch);
    assertKind(result, 'partial');
    assert.deepEqual(result.retry, []);
    assert.deepEqual(result.rejected.map((r) => r.index), [7, 17, 27]);
    assert.equal(result.rejected[0]!.reason, 'INVALID_ARGUMENT: Log entry refused: field jsonPayload.django is invalid');
    assert.match(result.reason, /^27 of 30 written, 3 rejected \(INVALID_ARGUMENT: Log entry refused/);
    assert.equal(server.count(), 27);
    assert.equal(server.writes.at(-1)!.partialSuccess, true);
    // unique records in = stored + rejected
    assert.equal(server.count() + result.rejected.length, 30);
  });
});

test('a call refused without per-entry errors is halved until only the bad entries are left', async () => {
  await withSink(async (server, sink) => {
    // Every entry bad: the service writes nothing and says only "INVALID_ARGUMENT".
    server.rejectEntriesWhen(() => true, 'Log entry refused');
    const before = server.writes.length;
    const result = await sink.send(batchOf(records(4)));
    assertKind(result, 'partial');
    assert.deepEqual(result.rejected.map((r) => r.index), [0, 1, 2, 3]);
    assert.equal(server.writes.length - before, 7, '4 → 2+2 → 1+1+1+1');
    assert.equal(server.count(), 0);

    // Half bad, in one half: the good half is written, the bad one resolved by per-entry errors.
    server.rejectEntriesWhen((e) => Number(/request (\d+)/.exec(String(e.jsonPayload?.['message']))?.[1]) >= 12, 'Log entry refused');
    const r2 = await sink.send(batchOf(records(4, 10)));
    assertKind(r2, 'partial');
    assert.deepEqual(r2.rejected.map((r) => r.index), [2, 3]);
    assert.equal(server.count(), 2);
  });
});

test('UNAVAILABLE bursts: retry, one call per send (the client itself retries nothing), then delivered', async () => {
  await withSink(async (server, sink) => {
    server.failNext(3, 'UNAVAILABLE');
    const batch = batchOf(records(5));
    const before = server.writes.length;
    for (let i = 0; i < 3; i++) {
      const r = await sink.send(batch);
      assertKind(r, 'retry');
      assert.equal(r.reason, 'UNAVAILABLE: The service is currently unavailable.');
      assert.equal(r.delayMs, undefined);
    }
    assert.equal(server.writes.length - before, 3);
    assert.deepEqual(await sink.send(batch), { kind: 'delivered' });
    assert.equal(server.count(), 5);
  });
});

test('UNAVAILABLE mid-batch: the calls after it are not made, the rest of the batch is retried', async () => {
  await withSink(async (server, sink) => {
    const big = Array.from({ length: 60 }, (_, i) => record(i, { message: 'y'.repeat(200_000) }));
    server.failNext(10, 'UNAVAILABLE', { after: 1 }); // the first call is written, then the service goes away
    const before = server.writes.length;
    const r = await sink.send(batchOf(big));
    assertKind(r, 'partial');
    assert.equal(server.writes.length - before, 2, 'after the first UNAVAILABLE nothing else is tried');
    const written = server.count();
    assert.ok(written > 0 && written < 60);
    assert.deepEqual(r.rejected, []);
    assert.deepEqual(r.retry, [...Array(60).keys()].slice(written));
    assert.match(r.reason, new RegExp(`^${written} of 60 written, ${60 - written} to retry \\(UNAVAILABLE: `));
    server.failAll(null);
    assert.deepEqual(await sink.send(batchOf(r.retry.map((i) => big[i]!))), { kind: 'delivered' });
    assert.equal(server.count(), 60);
  });
});

test('RESOURCE_EXHAUSTED: retry after a delay (no rate headers from the service)', async () => {
  await withSink(async (server, sink) => {
    server.failNext(1, 'RESOURCE_EXHAUSTED');
    const r = await sink.send(batchOf(records(2)));
    assertKind(r, 'retry');
    assert.match(r.reason, /^RESOURCE_EXHAUSTED: Quota exceeded/);
    assert.equal(r.delayMs, 2000);
    assert.deepEqual(await sink.send(batchOf(records(2))), { kind: 'delivered' });
  });
});

test('PERMISSION_DENIED at start or on a send: fatal, naming the role to grant', async () => {
  const server = await startCloudLoggingServer();
  server.failAll('PERMISSION_DENIED');
  const sink = createCloudLoggingSink(clConfig(server.address), { logger: silentLogger, hostName: 'h' });
  try {
    const r = await sink.start();
    assertKind(r, 'fatal');
    assert.match(r.reason, /^PERMISSION_DENIED: Permission 'logging.logEntries.create' denied .*roles\/logging.logWriter.* on project test-project/);
    server.failAll(null);
    assert.deepEqual(await sink.start(), { kind: 'delivered' });
    server.failNext(1, 'UNAUTHENTICATED');
    const s = await sink.send(batchOf(records(2)));
    assertKind(s, 'fatal');
    assert.match(s.reason, /^UNAUTHENTICATED: .*check sink.key_filename/);
    server.failNext(1, 'NOT_FOUND');
    assertKind(await sink.send(batchOf(records(2))), 'fatal');
  } finally {
    await sink.close();
    await server.close();
  }
});

test('a resource the service refuses stops the agent at start (dry run)', async () => {
  const server = await startCloudLoggingServer();
  server.rejectEntriesWhen((e) => e.resource?.type === 'bogus_type', 'Unsupported resource type: bogus_type');
  const sink = createCloudLoggingSink(clConfig(server.address, { resource: { type: 'bogus_type', labels: {} } }), { logger: silentLogger, hostName: 'h' });
  try {
    const r = await sink.start();
    assertKind(r, 'fatal');
    assert.equal(r.reason, 'Cloud Logging refuses entries as configured (dry-run write): INVALID_ARGUMENT: Unsupported resource type: bogus_type; check sink.log_name and sink.resource');
  } finally {
    await sink.close();
    await server.close();
  }
});

test('server down: retry; up again on the same port: delivered', async () => {
  await withSink(async (server, sink) => {
    assert.deepEqual(await sink.send(batchOf(records(1, 100))), { kind: 'delivered' }); // a connection is open
    await server.stop();
    const r = await sink.send(batchOf(records(3)));
    assertKind(r, 'retry');
    assert.match(r.reason, /^(UNAVAILABLE|CANCELLED): /);
    await server.start();
    let last: SendResult = r;
    for (let i = 0; i < 20 && last.kind !== 'delivered'; i++) {
      last = await sink.send(batchOf(records(3)));
      if (last.kind !== 'delivered') await new Promise((res) => setTimeout(res, 100));
    }
    assert.deepEqual(last, { kind: 'delivered' });
    assert.equal(server.count(), 4);
  });
});

/** A stand-in for the API, for what the test server cannot show: lookups of the project and the resource. */
function fakeClient(over: Partial<LoggingClient> = {}): LoggingClient & { writes: WriteRequest[]; detections: number; projectLookups: number } {
  const fake = {
    endpoint: 'logging.googleapis.com:443',
    writes: [] as WriteRequest[],
    detections: 0,
    projectLookups: 0,
    async write(request: WriteRequest) {
      fake.writes.push(request);
    },
    async projectId() {
      fake.projectLookups++;
      return 'from-credentials';
    },
    async detectResource() {
      fake.detections++;
      return { type: 'gce_instance', labels: { instance_id: '123', zone: 'europe-west1-b' } };
    },
    async close() {},
    ...over,
  };
  return fake;
}

const PROD: CloudLoggingSinkConfig = { type: 'cloud_logging', logName: 'django', labels: {}, insecure: false };

test('a configured resource and project: no lookup at all', async () => {
  const api = fakeClient();
  const sink = createCloudLoggingSink({ ...PROD, projectId: 'my-project', resource: { type: 'generic_node', labels: { node_id: '{host}' } } }, { logger: silentLogger, hostName: 'h' }, async () => api);
  assert.deepEqual(await sink.start(), { kind: 'delivered' });
  assert.equal(api.detections, 0);
  assert.equal(api.projectLookups, 0);
  assert.equal(api.writes[0]!.dryRun, true);
  await sink.send(batchOf(records(1)));
  assert.deepEqual(api.writes[1]!.entries[0]!.resource, { type: 'generic_node', labels: { node_id: 'web-1' } });
  assert.equal(api.writes[1]!.entries[0]!.logName, 'projects/my-project/logs/django');
});

test('no resource configured: detected once at start (GCE here) and used for every entry; the project from the credentials', async () => {
  const api = fakeClient();
  const sink = createCloudLoggingSink(PROD, { logger: silentLogger, hostName: 'h' }, async () => api);
  assert.deepEqual(await sink.start(), { kind: 'delivered' });
  await sink.send(batchOf(records(2)));
  assert.equal(api.detections, 1);
  assert.equal(api.projectLookups, 1);
  for (const e of api.writes[1]!.entries) {
    assert.deepEqual(e.resource, { type: 'gce_instance', labels: { instance_id: '123', zone: 'europe-west1-b' } });
    assert.equal(e.logName, 'projects/from-credentials/logs/django');
  }
});

test('resource detection failing: global; no project anywhere: fatal, saying to set sink.project_id', async () => {
  const failing = fakeClient({ detectResource: async () => Promise.reject(new Error('metadata server unreachable')) });
  const sink = createCloudLoggingSink({ ...PROD, projectId: 'my-project' }, { logger: silentLogger, hostName: 'h' }, async () => failing);
  assert.deepEqual(await sink.start(), { kind: 'delivered' });
  await sink.send(batchOf(records(1)));
  assert.deepEqual(failing.writes[1]!.entries[0]!.resource, { type: 'global', labels: {} });

  const noProject = fakeClient({ projectId: async () => Promise.reject(new Error('Unable to detect a Project Id in the current environment. \nTo learn more…')) });
  const s2 = createCloudLoggingSink(PROD, { logger: silentLogger, hostName: 'h' }, async () => noProject);
  const r = await s2.start();
  assertKind(r, 'fatal');
  assert.equal(r.reason, 'Unable to detect a Project Id in the current environment. To learn more…; set sink.project_id (or GOOGLE_CLOUD_PROJECT)');
  assert.equal(noProject.writes.length, 0);
});
