/** The CloudWatch sink's pure parts: limits and chunking, encoding, truncation, name templates. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { recordId, TAG_TRUNCATED, type EcsDocument, type LogRecord } from '../../src/record.js';
import { chunkEvents, MAX_BATCH_BYTES, MAX_BATCH_EVENTS, type PreparedEvent } from '../../sinks/cloudwatch/limits.js';
import { encodeRecord, TAG_TIMESTAMP_CLAMPED } from '../../sinks/cloudwatch/encode.js';
import { fitDocument, jsonStringBytes, prefixWithin } from '../../sinks/cloudwatch/truncate.js';
import {
  fieldValues,
  groupTemplateProblem,
  parseTemplate,
  renderer,
  streamTemplateProblem,
  validGroupName,
  validStreamName,
} from '../../sinks/cloudwatch/template.js';
import { columnBatch, sampleRecord } from '../support/records.js';

const HOUR = 3600_000;
const DAY = 24 * HOUR;
const NOW = Date.UTC(2026, 10, 27, 12, 0, 0);

function event(index: number, timestamp: number, messageBytes = 10): PreparedEvent {
  return { index, timestamp, message: 'x'.repeat(messageBytes), size: messageBytes + 26 };
}

function record(i: number, over: Partial<EcsDocument> = {}, path = '/var/log/app/django.log'): LogRecord {
  return sampleRecord(i, { path, at: NOW - HOUR + i, doc: over });
}

const ENCODE = { now: NOW, maxEventBytes: 1_048_576 };
const enc = (r: LogRecord, index: number, options: Parameters<typeof encodeRecord>[3]) => encodeRecord(r, r.doc, index, options);
const values = (r: LogRecord, host: string) => fieldValues(r, r.doc, host);

test('chunkEvents: 1,048,576 bytes counted with the 26-byte overhead per event', () => {
  // Four events of 262,118 message bytes + 26 = 262,144 each: exactly 1,048,576, one request.
  const exact = Array.from({ length: 4 }, (_, i) => event(i, NOW, 262_118));
  assert.deepEqual(chunkEvents(exact).map((c) => c.length), [4]);
  // One byte more and the fourth event needs a request of its own.
  const over = [...exact.slice(0, 3), event(3, NOW, 262_119)];
  assert.deepEqual(chunkEvents(over).map((c) => c.length), [3, 1]);
  // Ten events of 104,857 message bytes fit without the overhead (1,048,570) but not with it (1,048,830).
  const overhead = Array.from({ length: 10 }, (_, i) => event(i, NOW, 104_857));
  const chunks = chunkEvents(overhead);
  assert.deepEqual(chunks.map((c) => c.length), [9, 1]);
  for (const c of chunks) assert.ok(c.reduce((s, e) => s + Buffer.byteLength(e.message) + 26, 0) <= MAX_BATCH_BYTES);
});

test('chunkEvents: at most 10,000 events per request', () => {
  const many = Array.from({ length: 25_001 }, (_, i) => event(i, NOW + i, 1));
  assert.deepEqual(chunkEvents(many).map((c) => c.length), [MAX_BATCH_EVENTS, MAX_BATCH_EVENTS, 5_001]);
  assert.deepEqual(chunkEvents(many.slice(0, 10_000)).map((c) => c.length), [10_000]);
  assert.deepEqual(chunkEvents(many.slice(0, 10_001)).map((c) => c.length), [10_000, 1]);
});

test('chunkEvents: unsorted input is sorted by timestamp; equal timestamps keep their batch order', () => {
  const input = [event(0, NOW + 30), event(1, NOW + 10), event(2, NOW + 20), event(3, NOW + 10), event(4, NOW)];
  const [chunk] = chunkEvents(input);
  assert.deepEqual(chunk!.map((e) => e.index), [4, 1, 3, 2, 0]);
});

test('chunkEvents: a 25-hour spread is cut so that no request spans 24 hours', () => {
  const hourly = Array.from({ length: 26 }, (_, h) => event(h, NOW - 25 * HOUR + h * HOUR)).reverse();
  const chunks = chunkEvents(hourly);
  assert.deepEqual(chunks.map((c) => c.length), [24, 2]);
  for (const c of chunks) assert.ok(c[c.length - 1]!.timestamp - c[0]!.timestamp < DAY);
  // Exactly 24 hours apart: two requests (the limit is "cannot span more than 24 hours"; staying under is safe).
  assert.equal(chunkEvents([event(0, NOW), event(1, NOW + DAY)]).length, 2);
  assert.equal(chunkEvents([event(0, NOW), event(1, NOW + DAY - 1)]).length, 1);
});

test('encodeRecord: the message is the ECS document with event.id; the timestamp is @timestamp', () => {
  const r = record(7, { event: { original: 'raw line' } });
  const encoded = enc(r, 3, ENCODE);
  assert.equal(encoded.kind, 'event');
  if (encoded.kind !== 'event') return;
  assert.equal(encoded.event.index, 3);
  assert.equal(encoded.event.timestamp, Date.parse(r.doc['@timestamp']));
  assert.deepEqual(JSON.parse(encoded.event.message), { ...r.doc, event: { original: 'raw line', id: recordId(r) } });
  assert.equal(encoded.event.size, Buffer.byteLength(encoded.event.message) + 26);
  assert.equal(encoded.truncated, false);
  assert.equal(encoded.clamped, false);
});

test('encodeRecord: a record kept as JSON (as the tailer makes them) gets event.id spliced in, same document', () => {
  const plain = record(4);
  const parsed = columnBatch([{ ...plain, json: JSON.stringify(plain.doc) }]).records[0]!;
  const a = enc(plain, 0, ENCODE);
  const b = enc(parsed, 0, ENCODE);
  assert.ok(a.kind === 'event' && b.kind === 'event');
  assert.deepEqual(JSON.parse(b.event.message), JSON.parse(a.event.message));
  assert.equal(b.event.message, `${JSON.stringify(plain.doc).slice(0, -1)},"event":{"id":"${recordId(plain)}"}}`);
  assert.equal(b.event.size, Buffer.byteLength(b.event.message) + 26);
});

test('encodeRecord: older than 14 days, or than retention_days, is rejected with the reason', () => {
  const old = record(0, { '@timestamp': new Date(NOW - 15 * DAY).toISOString() });
  const a = enc(old, 0, ENCODE);
  assert.equal(a.kind, 'rejected');
  assert.match(a.kind === 'rejected' ? a.reason : '', /^too old for CloudWatch Logs: @timestamp 2026-11-12T12:00:00\.000Z is more than 14 days before the send time$/);
  const twoDays = record(1, { '@timestamp': new Date(NOW - 2 * DAY).toISOString() });
  assert.equal(enc(twoDays, 0, ENCODE).kind, 'event');
  const b = enc(twoDays, 0, { ...ENCODE, retentionDays: 1 });
  assert.match(b.kind === 'rejected' ? b.reason : '', /more than the log group's retention \(1 days\)/);
  // 13 days old is sent.
  assert.equal(enc(record(2, { '@timestamp': new Date(NOW - 13 * DAY).toISOString() }), 0, ENCODE).kind, 'event');
});

test('encodeRecord: more than 2 hours ahead (less a margin) is sent at the send time, tagged, @timestamp kept', () => {
  const ahead = record(0, { '@timestamp': new Date(NOW + 3 * HOUR).toISOString(), tags: ['x'] });
  const e = enc(ahead, 0, ENCODE);
  assert.ok(e.kind === 'event' && e.clamped);
  assert.equal(e.event.timestamp, NOW);
  const doc = JSON.parse(e.event.message) as EcsDocument;
  assert.equal(doc['@timestamp'], ahead.doc['@timestamp']);
  assert.deepEqual(doc.tags, ['x', TAG_TIMESTAMP_CLAMPED]);
  assert.deepEqual(ahead.doc.tags, ['x'], 'the record itself is not changed');
  // Within the margin (1 h 58 min ahead): clamped as well; one hour ahead: sent as it is.
  const near = enc(record(1, { '@timestamp': new Date(NOW + 118 * 60_000).toISOString() }), 0, ENCODE);
  assert.ok(near.kind === 'event' && near.clamped);
  const hour = enc(record(2, { '@timestamp': new Date(NOW + HOUR).toISOString() }), 0, ENCODE);
  assert.ok(hour.kind === 'event' && !hour.clamped && hour.event.timestamp === NOW + HOUR);
});

test('encodeRecord: an oversized document is truncated to fit, stays valid JSON, tagged, never rejected', () => {
  const big = 'é€😀"\\\n\u0001abc'.repeat(200_000); // multi-byte, escapes and control characters
  const r = record(0, { message: big, error: { stack_trace: 'Traceback\n' + 'frame\n'.repeat(100_000), type: 'ValueError' } });
  for (const max of [1_048_576, 262_144, 1024]) {
    const e = enc(r, 0, { ...ENCODE, maxEventBytes: max });
    assert.ok(e.kind === 'event' && e.truncated, `truncated at ${max}`);
    assert.ok(e.event.size <= max, `${e.event.size} <= ${max}`);
    assert.equal(e.event.size, Buffer.byteLength(e.event.message) + 26);
    const doc = JSON.parse(e.event.message) as EcsDocument & { event: { id: string } };
    assert.ok(doc.tags?.includes(TAG_TRUNCATED));
    assert.equal(doc['@timestamp'], r.doc['@timestamp']);
    assert.equal(doc.event.id, recordId(r));
    assert.equal(doc.log.offset, 0);
    assert.match(doc.message, / \[logship: truncated \d+ bytes\]$/);
    assert.ok(big.startsWith(doc.message.replace(/ \[logship: truncated \d+ bytes\]$/, '')), 'the kept text is a prefix');
    if (max === 1_048_576) assert.ok(e.event.size > max - 64, `uses the room it has (${e.event.size})`);
  }
  assert.equal(r.doc.message, big, 'the record itself is not changed');
});

test('fitDocument: exactly at the budget is not truncated, one byte over is', () => {
  const doc = { message: 'a'.repeat(500) };
  const bytes = Buffer.byteLength(JSON.stringify(doc));
  assert.equal(fitDocument(doc, bytes).truncated, false);
  const cut = fitDocument(doc, bytes - 1);
  assert.equal(cut.truncated, true);
  assert.ok(cut.bytes <= bytes - 1);
  assert.deepEqual((JSON.parse(cut.json) as { tags: string[] }).tags, [TAG_TRUNCATED]);
});

test('fitDocument: thousands of small fields fall back to the fields that name the record', () => {
  const django: Record<string, string> = {};
  for (let i = 0; i < 50_000; i++) django[`k${i}`] = 'v';
  const r = record(0, { django });
  const e = enc(r, 0, { ...ENCODE, maxEventBytes: 262_144 });
  assert.ok(e.kind === 'event' && e.truncated && e.event.size <= 262_144);
  const doc = JSON.parse(e.event.message) as Record<string, unknown>;
  assert.equal(doc['django'], undefined);
  assert.equal(doc['message'], r.doc.message);
  assert.deepEqual(doc['tags'], [TAG_TRUNCATED]);
});

test('prefixWithin and jsonStringBytes count what JSON.stringify writes', () => {
  for (const s of ['abc', 'é€😀', '"\\\n\u0001', '\ud800x', 'x\udc00']) {
    assert.equal(jsonStringBytes(s), Buffer.byteLength(JSON.stringify(s)) - 2, JSON.stringify(s));
  }
  assert.deepEqual(prefixWithin('a😀b', 4), { length: 1, bytes: 1 }, 'a surrogate pair is never split');
  assert.deepEqual(prefixWithin('a😀b', 5), { length: 3, bytes: 5 });
});

test('templates: fields, problems, names made valid', () => {
  assert.deepEqual(parseTemplate('/app/{input}/x'), ['/app/', { field: 'input' }, '/x']);
  assert.throws(() => parseTemplate('{nope}'), {
    message: 'unknown template field "{nope}" (known: {host}, {input}, {file}, {container}, {container_name}, {service}, {path})',
  });
  assert.throws(() => parseTemplate('a{b'), { message: 'unbalanced "{" or "}" in "a{b"' });
  assert.equal(groupTemplateProblem('/accreditrack/{input}'), null);
  assert.equal(groupTemplateProblem('/a b'), '" " cannot be part of a log group name (letters, digits and . - _ / # only)');
  assert.equal(groupTemplateProblem('aws/lambda'), 'log group names starting with "aws/" are reserved for AWS services');
  assert.equal(streamTemplateProblem('{host}/{file}'), null);
  assert.equal(streamTemplateProblem('a*{host}'), '"*" cannot be part of a log stream name');
  assert.equal(validGroupName('/app/my host:1'), '/app/my_host_1');
  assert.equal(validStreamName('web:1/*.log'), 'web_1/_.log');
  assert.equal(validStreamName(''), '_');
  assert.equal(validStreamName('x'.repeat(600)).length, 512);

  const django = values(record(0, {}, '/var/log/app/django.log.1'), 'agent-host');
  const none = { container_name: 'none', service: 'none' };
  assert.deepEqual(django, { host: 'web-1', input: 'django', file: 'django.log', container: 'none', ...none, path: '/var/log/app/django.log.1' });
  const id = 'a'.repeat(64);
  const dockerPath = `/var/lib/docker/containers/${id}/${id}-json.log`;
  const docker = values(record(0, { stream: 'stdout', container: { id } }, dockerPath), 'agent-host');
  assert.deepEqual(docker, { host: 'web-1', input: 'docker', file: `${id}-json.log`, container: id, ...none, path: dockerPath });
  const noHost = record(0, {}, '/l/app.log-20261127');
  delete noHost.doc.host;
  assert.deepEqual(values(noHost, 'agent-host').host, 'agent-host');
  assert.equal(values(noHost, 'h').file, 'app.log');
  assert.equal(renderer('{host}/{file}')(django), 'web-1/django.log');
  assert.equal(renderer('/static')(django), '/static');
});

test('templates: {container_name} and {service} make a stream per compose service; {input} is the file\'s input', () => {
  const id = 'b'.repeat(64);
  const dockerPath = `/var/lib/docker/containers/${id}/${id}-json.log`;
  const doc = { stream: 'stdout' as const, container: { id, name: 'accreditrack-backend-1' }, service: { name: 'backend' } };
  const v = values(record(0, doc, dockerPath), 'agent-host');
  assert.equal(v.container_name, 'accreditrack-backend-1');
  assert.equal(v.service, 'backend');
  assert.equal(renderer('{host}/{service}')(v), 'web-1/backend');
  // A kubelet-rotated CRI file goes to the stream of its live name; the record's input type is its file's.
  const podPath = '/var/log/pods/shop_web-7d9f_0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b/web/0.log.20261205-100000';
  const base = record(0, { stream: 'stderr', container: { name: 'web' } }, podPath);
  const cri = values({ ...base, source: { ...base.source, input: { type: 'cri' } } }, 'agent-host');
  assert.equal(cri.file, '0.log');
  assert.equal(cri.input, 'cri');
  assert.equal(cri.container, 'none');
  assert.equal(renderer('{container_name}/{service}')(cri), 'web/none');
});
