/**
 * The test Cloud Logging server's own protocol behaviours, driven by the real client with hand-made requests (the
 * sink never sends most of these: it URL-encodes log names, fits entries and splits requests).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createLoggingClient, type LoggingClient } from '../../sinks/cloud-logging/client.js';
import { toStruct, type LogEntryMessage } from '../../sinks/cloud-logging/entry.js';
import { guardLoopback, logNameProblem, startCloudLoggingServer, type CloudLoggingServerHandle } from '../support/cloud-logging-server.js';

let guard: ReturnType<typeof guardLoopback>;
before(() => void (guard = guardLoopback()));
after(() => {
  guard.restore();
  assert.deepEqual(guard.offenders, [], 'no connection left loopback');
});

function entry(i: number, over: Partial<LogEntryMessage> = {}): LogEntryMessage {
  return {
    logName: 'projects/p-123456/logs/django',
    resource: { type: 'global', labels: {} },
    labels: {},
    timestamp: { seconds: 1_767_225_600 + i, nanos: 0 },
    severity: 'INFO',
    insertId: `id-${i}`,
    jsonPayload: toStruct({ message: `m${i}` }),
    ...over,
  };
}

async function withClient(fn: (server: CloudLoggingServerHandle, client: LoggingClient) => Promise<void>): Promise<void> {
  const server = await startCloudLoggingServer();
  const client = createLoggingClient({
    type: 'cloud_logging',
    projectId: 'p-123456',
    logName: 'x',
    labels: {},
    apiEndpoint: { host: '127.0.0.1', port: server.port },
    insecure: true,
  });
  try {
    await fn(server, client);
  } finally {
    await client.close();
    await server.close();
  }
}

async function rejects(p: Promise<unknown>): Promise<{ code: number; details: string; statusDetails?: unknown[] }> {
  try {
    await p;
  } catch (err) {
    return err as { code: number; details: string; statusDetails?: unknown[] };
  }
  throw new Error('expected the call to fail');
}

test('log name format: projects/P/logs/LOG_ID, LOG_ID URL-encoded and of the allowed characters', () => {
  assert.equal(logNameProblem('projects/my-project/logs/django'), null);
  assert.equal(logNameProblem('projects/my-project/logs/apps%2Fdjango'), null);
  assert.match(String(logNameProblem('projects/my-project/logs/apps/django')), /expected projects\/\[PROJECT_ID\]\/logs\/\[LOG_ID\] with LOG_ID URL-encoded/);
  assert.match(String(logNameProblem('projects/my-project/logs/a%20b')), /may contain only letters/);
  assert.match(String(logNameProblem(`projects/my-project/logs/${'a'.repeat(512)}`)), /less than 512/);
  assert.match(String(logNameProblem('django')), /expected projects/);
  assert.match(String(logNameProblem('')), /required/);
});

test('an entry over 256 KiB is refused; with partial_success the others are written and the error says which', async () => {
  await withClient(async (server, client) => {
    const big = entry(1, { jsonPayload: toStruct({ message: 'x'.repeat(300 * 1024) }) });
    const err = await rejects(client.write({ entries: [entry(0), big, entry(2)], partialSuccess: true }));
    assert.equal(err.code, 3);
    assert.match(err.details, /^Log entry with size 300\.\dK exceeds maximum size of 256\.0K$/);
    const partial = err.statusDetails?.[0] as { logEntryErrors: Record<string, { code: number; message: string }> };
    assert.deepEqual(Object.keys(partial.logEntryErrors), ['1']);
    assert.equal(partial.logEntryErrors['1']!.code, 3);
    assert.equal(server.count(), 2);
  });
});

test('without partial_success one bad entry fails the whole call; a call that writes nothing has no per-entry errors', async () => {
  await withClient(async (server, client) => {
    const bad = entry(1, { logName: 'projects/p-123456/logs/a/b' });
    const err = await rejects(client.write({ entries: [entry(0), bad], partialSuccess: false }));
    assert.equal(err.code, 3);
    assert.equal(err.statusDetails, undefined);
    assert.equal(server.count(), 0);
    const all = await rejects(client.write({ entries: [bad, bad], partialSuccess: true }));
    assert.equal(all.code, 3);
    assert.equal(all.statusDetails, undefined);
    assert.equal(server.count(), 0);
  });
});

test('a request over 10 MB is refused whole', async () => {
  await withClient(async (server, client) => {
    const entries = Array.from({ length: 50 }, (_, i) => entry(i, { jsonPayload: toStruct({ message: 'z'.repeat(220_000) }) }));
    const err = await rejects(client.write({ entries, partialSuccess: true }));
    assert.equal(err.code, 3);
    assert.equal(err.details, 'Request payload size exceeds the limit: 10485760 bytes.');
    assert.equal(server.count(), 0);
  });
});

test('duplicates are (project, timestamp, insertId); dry runs store nothing; missing resource and future timestamps refused', async () => {
  await withClient(async (server, client) => {
    await client.write({ entries: [entry(0), entry(1)], partialSuccess: true });
    await client.write({ entries: [entry(0)], partialSuccess: true });
    assert.equal(server.count(), 2);
    assert.equal(server.stats.duplicates, 1);
    // The same insertId with another timestamp is another entry.
    await client.write({ entries: [entry(0, { timestamp: { seconds: 1, nanos: 0 } })], partialSuccess: true });
    assert.equal(server.count(), 3);
    await client.write({ entries: [entry(9)], partialSuccess: true, dryRun: true });
    assert.equal(server.count(), 3);
    assert.equal(server.stats.dryRuns, 1);

    const future = entry(5, { timestamp: { seconds: Math.floor(Date.now() / 1000) + 2 * 86_400, nanos: 0 } });
    assert.match((await rejects(client.write({ entries: [future], partialSuccess: true }))).details, /more than 1 day in the future/);
    const noResource = { ...entry(6), resource: { type: '', labels: {} } };
    assert.match((await rejects(client.write({ entries: [noResource], partialSuccess: true }))).details, /monitored resource must be specified/);
  });
});
