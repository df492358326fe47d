/** Pure parts of the Cloud Logging sink: templates, the LogRecord → LogEntry mapping, sizes, truncation, splitting. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TAG_TRUNCATED, type EcsDocument, type LogRecord } from '../../src/record.js';
import {
  envelopeOf,
  formatLogName,
  sanitizeLogId,
  severityOf,
  toStruct,
  toTimestamp,
  type EntryContext,
  type EntryEnvelope,
} from '../../sinks/cloud-logging/entry.js';
import {
  cutUtf8,
  ENTRY_BUDGET_BYTES,
  entrySize,
  fitPayload,
  MAX_ENTRIES_PER_REQUEST,
  MIN_KEPT_BYTES,
  planRequests,
  REQUEST_BUDGET_BYTES,
  requestShare,
  varintSize,
} from '../../sinks/cloud-logging/limits.js';
import { compileTemplate, parseTemplate, renderTemplate, templateValues } from '../../sinks/cloud-logging/template.js';

function record(doc: Partial<EcsDocument> = {}, start = 4096): LogRecord {
  return {
    source: { path: '/var/log/app/django.log', idPrefix: 'dev1-ino42-fp9', ack() {} },
    start,
    end: start + 100,
    seq: 0,
    bytes: 100,
    doc: {
      '@timestamp': '2026-11-27T12:00:00.123+01:00',
      message: 'GET /api/x 200',
      log: { level: 'INFO', logger: 'django.request', file: { path: '/var/log/app/django.log' }, offset: start },
      host: { name: 'web-1' },
      ...doc,
    },
  };
}

const CTX: EntryContext = {
  projectId: 'my-project',
  logName: compileTemplate('django'),
  resource: { type: 'generic_node', labels: { location: compileTemplate('europe-west1'), node_id: compileTemplate('{host}') } },
  labels: { app: compileTemplate('accreditrack'), source: compileTemplate('{input}') },
  hostName: 'agent-host',
};

test('templates: fields, literals, and the problems the config reports', () => {
  assert.deepEqual(parseTemplate('django'), ['django']);
  assert.deepEqual(parseTemplate('app-{input}/{host}'), ['app-', { field: 'input' }, '/', { field: 'host' }]);
  assert.deepEqual(parseTemplate('{nope}'), {
    problem: 'unknown template field "{nope}" (known: {host}, {input}, {container}, {container_name}, {service})',
  });
  assert.deepEqual(parseTemplate('a{host'), { problem: 'unclosed "{" in "a{host" (template fields look like {host})' });
  assert.deepEqual(parseTemplate('a}'), { problem: 'unmatched "}" in "a}" (template fields look like {host})' });
  const t = compileTemplate('{input}-{container}-{host}');
  assert.equal(renderTemplate(t, { host: 'h', input: 'docker', container: 'abc', container_name: 'n', service: 's' }), 'docker-abc-h');

  const none = { container_name: '', service: '' };
  assert.deepEqual(templateValues(record(), 'agent'), { host: 'web-1', input: 'django', container: '', ...none });
  const docker = record({ stream: 'stderr', container: { id: '0123456789abcdef0123' }, host: undefined });
  assert.deepEqual(templateValues(docker, 'agent'), { host: 'agent', input: 'docker', container: '0123456789ab', ...none });
});

test('templates: {container_name} and {service} from the document, {input} from the record\'s input', () => {
  const compose = record({
    stream: 'stdout',
    container: { id: 'f'.repeat(64), name: 'accreditrack-backend-1' },
    service: { name: 'backend' },
  });
  assert.deepEqual(templateValues(compose, 'agent'), {
    host: 'web-1',
    input: 'docker',
    container: 'ffffffffffff',
    container_name: 'accreditrack-backend-1',
    service: 'backend',
  });
  assert.equal(renderTemplate(compileTemplate('containers/{service}'), templateValues(compose, 'agent')), 'containers/backend');
  // A Kubernetes record: no id (a /var/log/pods file without its link), the input named by the file's input.
  const cri = { ...record({ stream: 'stdout', container: { name: 'web' } }), source: { path: '/var/log/pods/x', idPrefix: 'p', ack() {}, input: { type: 'cri' } } };
  assert.deepEqual(templateValues(cri, 'agent'), { host: 'web-1', input: 'cri', container: '', container_name: 'web', service: '' });
});

test('severity: Python levels, aliases, Docker stderr → ERROR unless the payload says otherwise', () => {
  const sev = (level: string | undefined, stream?: 'stdout' | 'stderr') =>
    severityOf({ log: { ...(level !== undefined && { level }), file: { path: '' }, offset: 0 }, ...(stream && { stream }) });
  assert.equal(sev('DEBUG'), 'DEBUG');
  assert.equal(sev('INFO'), 'INFO');
  assert.equal(sev('WARNING'), 'WARNING');
  assert.equal(sev('ERROR'), 'ERROR');
  assert.equal(sev('CRITICAL'), 'CRITICAL');
  assert.equal(sev('warn'), 'WARNING');
  assert.equal(sev('Fatal'), 'CRITICAL');
  assert.equal(sev('NOTSET'), 'DEFAULT');
  assert.equal(sev(undefined), 'DEFAULT');
  assert.equal(sev(undefined, 'stdout'), 'DEFAULT');
  assert.equal(sev(undefined, 'stderr'), 'ERROR');
  assert.equal(sev('INFO', 'stderr'), 'INFO', 'a level in the payload wins over the stream');
  assert.equal(sev('DEBUG', 'stderr'), 'DEBUG');
  assert.equal(sev('Level 5', 'stderr'), 'ERROR', 'an unknown level says nothing');
});

test('timestamps: offsets applied, fractions kept to the nanosecond', () => {
  assert.deepEqual(toTimestamp('2026-11-27T12:00:00.123+01:00'), { seconds: Date.UTC(2026, 10, 27, 11) / 1000, nanos: 123_000_000 });
  assert.deepEqual(toTimestamp('2026-11-27T12:00:00.123456789Z'), { seconds: Date.UTC(2026, 10, 27, 12) / 1000, nanos: 123_456_789 });
  assert.deepEqual(toTimestamp('2026-11-27T12:00:00Z'), { seconds: Date.UTC(2026, 10, 27, 12) / 1000, nanos: 0 });
  assert.deepEqual(toTimestamp('2026-11-27T12:00:00.5-0230'), { seconds: Date.UTC(2026, 10, 27, 14, 30) / 1000, nanos: 500_000_000 });
  assert.equal(toTimestamp('yesterday'), undefined);
  assert.equal(toTimestamp(undefined), undefined);
});

test('log names: LOG_ID URL-encoded, made valid when a field gives odd characters', () => {
  assert.equal(formatLogName('my-project', 'django'), 'projects/my-project/logs/django');
  assert.equal(formatLogName('my-project', 'apps/django.v2'), 'projects/my-project/logs/apps%2Fdjango.v2');
  assert.equal(sanitizeLogId('web 1:django'), 'web_1_django');
  assert.equal(sanitizeLogId(''), 'logship');
  assert.equal(sanitizeLogId('x'.repeat(600)).length, 511);
});

test('envelope: resource and labels rendered per record, insertId from file identity + offset', () => {
  const e = envelopeOf(record(), CTX);
  assert.deepEqual(e, {
    logName: 'projects/my-project/logs/django',
    resource: { type: 'generic_node', labels: { location: 'europe-west1', node_id: 'web-1' } },
    labels: { app: 'accreditrack', source: 'django' },
    timestamp: { seconds: Date.UTC(2026, 10, 27, 11) / 1000, nanos: 123_000_000 },
    severity: 'INFO',
    insertId: 'dev1-ino42-fp9-4096',
  });
  const d = envelopeOf(record({ stream: 'stderr', log: { file: { path: '/x' }, offset: 0 }, '@timestamp': 'garbage' }), {
    ...CTX,
    logName: compileTemplate('{input}'),
  });
  assert.equal(d.logName, 'projects/my-project/logs/docker');
  assert.equal(d.severity, 'ERROR');
  assert.equal(d.timestamp, undefined, 'no timestamp: the service stamps it');
  assert.equal(d.labels['source'], 'docker');
});

test('toStruct: JSON as Struct, undefined left out, non-finite numbers null', () => {
  assert.deepEqual(toStruct({ a: 'x', b: 1.5, c: true, d: null, e: undefined, f: [1, 'y', null, { g: NaN }], h: { i: {} } }), {
    fields: {
      a: { stringValue: 'x' },
      b: { numberValue: 1.5 },
      c: { boolValue: true },
      d: { nullValue: 'NULL_VALUE' },
      f: {
        listValue: {
          values: [{ numberValue: 1 }, { stringValue: 'y' }, { nullValue: 'NULL_VALUE' }, { structValue: { fields: { g: { nullValue: 'NULL_VALUE' } } } }],
        },
      },
      h: { structValue: { fields: { i: { structValue: { fields: {} } } } } },
    },
  });
});

test('varint sizes', () => {
  assert.deepEqual([0, 127, 128, 16383, 16384, 2 ** 31, 2 ** 53].map(varintSize), [1, 1, 2, 2, 3, 5, 8]);
  assert.equal(varintSize(-1), 10);
});

test('cutUtf8 never splits a character', () => {
  assert.equal(cutUtf8('héllo', 2), 'h');
  assert.equal(cutUtf8('héllo', 3), 'hé');
  assert.equal(cutUtf8('a😀b', 4), 'a');
  assert.equal(cutUtf8('a😀b', 5), 'a😀');
  assert.equal(cutUtf8('abc', 10), 'abc');
});

test('fitPayload: a small record is sent as it is, untouched', () => {
  const r = record();
  const env = envelopeOf(r, CTX);
  const fitted = fitPayload(env, r.doc);
  assert.equal(fitted.truncated, false);
  assert.equal(fitted.payload, r.doc);
  assert.equal(fitted.size, entrySize(env, r.doc));
});

test('fitPayload: a huge traceback is cut with a marker and tagged; the record itself is unchanged', () => {
  const stack = 'Traceback (most recent call last):\n' + '  File "x.py", line 1, in f\n'.repeat(20_000) + 'ValueError: boom';
  const r = record({ error: { stack_trace: stack, type: 'ValueError' }, message: 'boom', tags: ['x'] });
  const env = envelopeOf(r, CTX);
  const fitted = fitPayload(env, r.doc);
  assert.equal(fitted.truncated, true);
  assert.ok(fitted.originalSize > 500_000);
  assert.ok(fitted.size <= ENTRY_BUDGET_BYTES, `${fitted.size} bytes`);
  assert.ok(fitted.size > ENTRY_BUDGET_BYTES - 1000, 'as much as fits is kept');
  assert.equal(fitted.size, entrySize(env, fitted.payload));
  const cut = fitted.payload.error!.stack_trace!;
  assert.ok(cut.startsWith('Traceback (most recent call last):\n  File "x.py"'));
  assert.match(cut, / …\[truncated by logship: \d+ bytes, over the Cloud Logging entry limit\]$/);
  assert.match(cut, new RegExp(`truncated by logship: ${Buffer.byteLength(stack)} bytes`));
  assert.deepEqual(fitted.payload.tags, ['x', TAG_TRUNCATED]);
  assert.equal(fitted.payload.message, 'boom');
  assert.equal(r.doc.error!.stack_trace, stack, 'the record keeps its document (dead letters, retries)');
  assert.deepEqual(r.doc.tags, ['x']);
});

test('fitPayload: several big strings are all cut, multi-byte text on character boundaries', () => {
  const big = 'é'.repeat(200_000); // 400 KB
  const r = record({ message: big, event: { original: big } });
  const env = envelopeOf(r, CTX);
  const fitted = fitPayload(env, r.doc);
  assert.ok(fitted.size <= ENTRY_BUDGET_BYTES);
  assert.ok(!fitted.payload.message.includes('\uFFFD'));
  assert.match(fitted.payload.message, /^é+ …\[truncated by logship: 400000 bytes/);
  assert.ok(fitted.payload.message.length >= MIN_KEPT_BYTES / 2);
});

test('fitPayload: thousands of small Django fields are dropped as a member when cutting strings is not enough', () => {
  const django: Record<string, string> = {};
  for (let i = 0; i < 30_000; i++) django[`field_${i}`] = `value ${i}`;
  const r = record({ django });
  const env = envelopeOf(r, CTX);
  const fitted = fitPayload(env, r.doc);
  assert.ok(fitted.size <= ENTRY_BUDGET_BYTES);
  assert.match(String(fitted.payload.django), /^\[dropped by logship: \d+ bytes over the Cloud Logging entry limit\]$/);
  assert.equal(fitted.payload.message, r.doc.message);
  assert.deepEqual(fitted.payload.log, r.doc.log);
  assert.deepEqual(fitted.payload.tags, [TAG_TRUNCATED]);
});

test('planRequests: at most 1000 entries and 8 MiB per request, in order', () => {
  assert.deepEqual(planRequests([]), []);
  assert.deepEqual(planRequests([10, 10, 10]), [[0, 1, 2]]);
  const many = planRequests(Array(2500).fill(100));
  assert.deepEqual(many.map((g) => g.length), [MAX_ENTRIES_PER_REQUEST, MAX_ENTRIES_PER_REQUEST, 500]);
  assert.deepEqual(many.flat(), [...Array(2500).keys()]);
  const big = planRequests(Array(100).fill(200_000)); // 20 MB of entries
  for (const g of big) assert.ok(2 + g.reduce((s) => s + requestShare(200_000), 0) <= REQUEST_BUDGET_BYTES);
  assert.deepEqual(big.map((g) => g.length), [41, 41, 18]);
});

test('entrySize of an envelope adds up field by field', () => {
  const env: EntryEnvelope = {
    logName: 'projects/p/logs/l', // 17
    resource: { type: 'global', labels: {} }, // 1+1+(1+1+6)
    labels: { a: 'b' }, // 1+1+(1+1+1 + 1+1+1)
    timestamp: { seconds: 1, nanos: 0 }, // 1+1+(1+1+1+1)
    severity: 'ERROR', // 1+2
    insertId: 'i', // 1+1+1
  };
  assert.equal(entrySize(env, {}), 19 + 10 + 8 + 6 + 3 + 3 + 2);
});
