import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addMemberJson, DocumentFields, DocumentWriter, LINE_PARTIAL, LINE_TRUNCATED, quote, REC_PARSE_ERROR } from '../../src/parse/document.js';
import { TAG_PARSE_ERROR, TAG_PARTIAL_TIMEOUT, TAG_TRUNCATED, type EcsDocument } from '../../src/record.js';

const PATH = '/srv/app/logs/"quoted" dj.log';
const HOST = 'web-1';

/** A JSON text field decoded (undefined stays undefined). */
const text = <T>(json: string | undefined): T | undefined => (json === undefined ? undefined : (JSON.parse(json) as T));

/** The document as the parsers built it before they wrote JSON text directly: an object, then JSON.stringify. */
function asObject(f: DocumentFields, decoration: { stream?: 'stdout'; container?: string }): EcsDocument {
  const doc: EcsDocument = { '@timestamp': f.timestamp, message: text<string>(f.messageJson)!, log: { file: { path: PATH }, offset: f.offset } };
  if (f.levelJson !== undefined) doc.log.level = text(f.levelJson);
  if (f.loggerJson !== undefined) doc.log.logger = text(f.loggerJson);
  if (f.originFileJson !== undefined || f.originLine !== undefined || f.originFunctionJson !== undefined) {
    doc.log.origin = {};
    if (f.originFileJson !== undefined || f.originLine !== undefined) {
      doc.log.origin.file = {};
      if (f.originFileJson !== undefined) doc.log.origin.file.name = text(f.originFileJson);
      if (f.originLine !== undefined) doc.log.origin.file.line = f.originLine;
    }
    if (f.originFunctionJson !== undefined) doc.log.origin.function = text(f.originFunctionJson);
  }
  if (f.stackTraceJson !== undefined) {
    doc.error = { stack_trace: text(f.stackTraceJson) };
    if (f.errorTypeJson !== undefined) doc.error.type = text(f.errorTypeJson);
    if (f.errorMessageJson !== undefined) doc.error.message = text(f.errorMessageJson);
  }
  if (f.pid !== undefined || f.threadId !== undefined || f.threadNameJson !== undefined) {
    doc.process = {};
    if (f.pid !== undefined) doc.process.pid = f.pid;
    if (f.threadId !== undefined || f.threadNameJson !== undefined) {
      doc.process.thread = {};
      if (f.threadId !== undefined) doc.process.thread.id = f.threadId;
      if (f.threadNameJson !== undefined) doc.process.thread.name = text(f.threadNameJson);
    }
  }
  if (f.django !== '') doc.django = JSON.parse(`{${f.django}}`) as Record<string, unknown>;
  doc.host = { name: HOST };
  if (f.originalJson !== undefined) doc.event = { original: text(f.originalJson) };
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
    (f) => (f.levelJson = quote('ERROR')),
    (f) => (f.loggerJson = quote('django.request')),
    (f) => (f.originFileJson = quote('views.py')),
    (f) => (f.originLine = 41),
    (f) => (f.originFunctionJson = quote('get')),
    (f) => {
      f.stackTraceJson = quote('Traceback (most recent call last):\n  File "a.py", line 1\nValueError: x');
      f.errorTypeJson = quote('ValueError');
    },
    (f) => (f.errorMessageJson = quote('x')), // only written with a stack trace
    (f) => (f.pid = 4242),
    (f) => (f.threadId = 140245123456),
    (f) => (f.threadNameJson = quote('MainThread')),
    (f) => (f.django = addMemberJson(addMemberJson('', '"status_code"', '200'), '"extra"', JSON.stringify({ nested: ['é', null, true] }))),
    (f) => (f.originalJson = quote('{"raw": "line \\u00e9"}')),
  ];
  const plain = new DocumentWriter(PATH, HOST);
  const docker = new DocumentWriter(PATH, HOST, `,"stream":"stdout","container":{"id":"c0ffee"}`);
  const f = new DocumentFields();
  for (let mask = 0; mask < 1 << setters.length; mask++) {
    const flags = [0, REC_PARSE_ERROR, LINE_TRUNCATED | LINE_PARTIAL][mask % 3]!;
    f.reset('2026-11-27T12:00:00.123Z', quote(`message ${mask} with "quotes", \\ and \n a second line ☃`), mask * 100, flags);
    setters.forEach((set, i) => mask & (1 << i) && set(f));
    if (f.stackTraceJson === undefined) f.errorMessageJson = undefined;
    assert.equal(plain.write(f), JSON.stringify(asObject(f, {})), `fields mask ${mask}`);
    assert.equal(docker.write(f), JSON.stringify(asObject(f, { stream: 'stdout', container: 'c0ffee' })), `fields mask ${mask}`);
  }
});

