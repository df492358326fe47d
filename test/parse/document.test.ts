import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DocumentFields, DocumentWriter, LINE_PARTIAL, LINE_TRUNCATED, ParsedRecord, REC_PARSE_ERROR, addMember } from '../../src/parse/document.js';
import { TAG_PARSE_ERROR, TAG_PARTIAL_TIMEOUT, TAG_TRUNCATED, type EcsDocument } from '../../src/record.js';

const PATH = '/srv/app/logs/"quoted" dj.log';
const HOST = 'web-1';

/** The document as the parsers built it before they wrote JSON text directly: an object, then JSON.stringify. */
function asObject(f: DocumentFields, decoration: { stream?: 'stdout'; container?: string }): EcsDocument {
  const doc: EcsDocument = { '@timestamp': f.timestamp, message: f.message, log: { file: { path: PATH }, offset: f.offset } };
  if (f.level !== undefined) doc.log.level = f.level;
  if (f.logger !== undefined) doc.log.logger = f.logger;
  if (f.originFile !== undefined || f.originLine !== undefined || f.originFunction !== undefined) {
    doc.log.origin = {};
    if (f.originFile !== undefined || f.originLine !== undefined) {
      doc.log.origin.file = {};
      if (f.originFile !== undefined) doc.log.origin.file.name = f.originFile;
      if (f.originLine !== undefined) doc.log.origin.file.line = f.originLine;
    }
    if (f.originFunction !== undefined) doc.log.origin.function = f.originFunction;
  }
  if (f.stackTrace !== undefined) {
    doc.error = { stack_trace: f.stackTrace };
    if (f.errorType !== undefined) doc.error.type = f.errorType;
    if (f.errorMessage !== undefined) doc.error.message = f.errorMessage;
  }
  if (f.pid !== undefined || f.threadId !== undefined || f.threadName !== undefined) {
    doc.process = {};
    if (f.pid !== undefined) doc.process.pid = f.pid;
    if (f.threadId !== undefined || f.threadName !== undefined) {
      doc.process.thread = {};
      if (f.threadId !== undefined) doc.process.thread.id = f.threadId;
      if (f.threadName !== undefined) doc.process.thread.name = f.threadName;
    }
  }
  if (f.django !== '') doc.django = JSON.parse(`{${f.django}}`) as Record<string, unknown>;
  doc.host = { name: HOST };
  if (f.original !== undefined) doc.event = { original: f.original };
  if (decoration.stream !== undefined) doc.stream = decoration.stream;
  if (decoration.container !== undefined) doc.container = { id: decoration.container };
  const tags: string[] = [];
  if (f.flags & REC_PARSE_ERROR) tags.push(TAG_PARSE_ERROR);
  if (f.flags & LINE_TRUNCATED) tags.push(TAG_TRUNCATED);
  if (f.flags & LINE_PARTIAL) tags.push(TAG_PARTIAL_TIMEOUT);
  if (tags.length > 0) doc.tags = tags;
  return doc;
}

test('DocumentWriter writes the same text JSON.stringify gives the document object, for every combination of fields', () => {
  const setters: ((f: DocumentFields) => void)[] = [
    (f) => (f.level = 'ERROR'),
    (f) => (f.logger = 'django.request'),
    (f) => (f.originFile = 'views.py'),
    (f) => (f.originLine = 41),
    (f) => (f.originFunction = 'get'),
    (f) => {
      f.stackTrace = 'Traceback (most recent call last):\n  File "a.py", line 1\nValueError: x';
      f.errorType = 'ValueError';
    },
    (f) => (f.errorMessage = 'x'), // only written with a stack trace
    (f) => (f.pid = 4242),
    (f) => (f.threadId = 140245123456),
    (f) => (f.threadName = 'MainThread'),
    (f) => (f.django = addMember(addMember('', 'status_code', 200), 'extra', { nested: ['é', null, true] })),
    (f) => (f.original = '{"raw": "line \\u00e9"}'),
  ];
  const plain = new DocumentWriter(PATH, HOST);
  const docker = new DocumentWriter(PATH, HOST, `,"stream":"stdout","container":{"id":"c0ffee"}`);
  const f = new DocumentFields();
  for (let mask = 0; mask < 1 << setters.length; mask++) {
    const flags = [0, REC_PARSE_ERROR, LINE_TRUNCATED | LINE_PARTIAL][mask % 3]!;
    f.reset('2026-11-27T12:00:00.123Z', `message ${mask} with "quotes", \\ and \n a second line ☃`, mask * 100, flags);
    setters.forEach((set, i) => mask & (1 << i) && set(f));
    if (f.stackTrace === undefined) f.errorMessage = undefined;
    assert.equal(plain.write(f), JSON.stringify(asObject(f, {})), `fields mask ${mask}`);
    assert.equal(docker.write(f), JSON.stringify(asObject(f, { stream: 'stdout', container: 'c0ffee' })), `fields mask ${mask}`);
  }
});

test('addMember skips an absent value and writes any other JSON value', () => {
  assert.equal(addMember('', 'a', undefined), '');
  assert.equal(addMember(addMember('', 'a', null), '__proto__', [1]), '"a":null,"__proto__":[1]');
  assert.deepEqual(Object.keys(JSON.parse(`{${addMember('', '__proto__', 1)}}`) as object), ['__proto__']);
});

test('ParsedRecord counts UTF-8 bytes of its text', () => {
  assert.equal(new ParsedRecord(0, 10, '{"message":"é☃😀"}', 0).bytes, 14 + 2 + 3 + 4);
});
