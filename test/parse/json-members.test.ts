import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JSON_NUMBER, JSON_STRING, ParsedObject, ScannedObject, type JsonMembers } from '../../src/parse/json-members.js';
import { runPython } from '../support/parsing.js';

/**
 * Everything a JsonMembers answers, decoded, so two implementations can be compared. Sorted by key: JSON.parse puts
 * integer-like keys first, the scanner keeps the line's order (both give the same object). A number's JSON text
 * compares by value, with -0 as 0: JSON.stringify writes -0 as "0", the scanner passes "-0.0" on as written.
 */
function answers(m: JsonMembers): unknown[] {
  const out: [string, ...unknown[]][] = [];
  for (let i = 0; i < m.count; i++) {
    const kind = m.kind(i);
    out.push([
      m.key(i),
      JSON.parse(m.keyJson(i)),
      kind,
      kind === JSON_NUMBER ? (JSON.parse(m.json(i)) as number) + 0 : JSON.parse(m.json(i)),
      kind === JSON_STRING ? m.string(i) : null,
      kind === JSON_STRING ? m.hasNewline(i) : null,
      kind === JSON_NUMBER ? m.number(i) + 0 : null,
    ]);
  }
  return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

function parsedFlat(text: string): ParsedObject | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return null;
  return new ParsedObject(v as Record<string, unknown>);
}

/** Whenever the scanner accepts a line, JSON.parse accepts it too and every answer is the same. */
function assertAgrees(text: string, scanner = new ScannedObject()): boolean {
  if (!scanner.scan(text)) return false;
  const parsed = parsedFlat(text);
  assert.ok(parsed !== null, `scanner accepted what JSON.parse refuses: ${JSON.stringify(text)}`);
  assert.deepEqual(answers(scanner), answers(parsed), text);
  return true;
}

const PY = `
import json, logging, sys
from pythonjsonlogger import jsonlogger
class H(logging.Handler):
    def emit(self, record):
        sys.stdout.write(self.format(record) + "\\n")
log = logging.getLogger("django.request")
log.setLevel(logging.DEBUG)
for ensure_ascii in (True, False):
    h = H()
    h.setFormatter(jsonlogger.JsonFormatter("%(asctime)s %(levelname)s %(name)s %(module)s %(process)d %(thread)d %(message)s", json_ensure_ascii=ensure_ascii))
    log.handlers = [h]
    log.info('"GET /api/x/?q=caf\\u00e9 HTTP/1.1" 200', extra={"status_code": 200, "duration_ms": 12.5, "user": None, "ok": True})
    log.warning("line one\\nline two\\ttab \\\\ backslash \\x01 control \\U0001F600 emoji", extra={"big": 12345678901234567890, "neg": -0.0, "exp": 1e-7})
    log.error("with a dict", extra={"context": {"a": [1, 2]}})
    try:
        1 / 0
    except ZeroDivisionError:
        log.exception("boom")
`;

test('python-json-logger lines: the scanner reads flat ones exactly as JSON.parse does, and leaves nested ones to it', (t) => {
  const out = runPython(PY);
  if (out === null) return t.skip('python3 with python-json-logger is not installed');
  const lines = out.trim().split('\n');
  assert.equal(lines.length, 8);
  const accepted = lines.map((l) => assertAgrees(l));
  // The dict extra makes the third line of each pass nested: JSON.parse's.
  assert.deepEqual(accepted, [true, true, false, true, true, true, false, true]);
});

test('the scanner declines escaped keys, duplicates, nesting and every malformed line, and agrees on the rest', () => {
  const scanner = new ScannedObject();
  const declined = [
    '{"a\\u0062":1}', // escaped key
    '{"a":1,"a":2}', // duplicate: JSON.parse keeps the last at the first's place
    '{"a":{"b":1}}',
    '{"a":[1]}',
    '{"a":1,}',
    '{"a":01}',
    '{"a":1.}',
    '{"a":.5}',
    '{"a":1e}',
    '{"a":-}',
    '{"a":"\\x"}',
    '{"a":"\\u12G4"}',
    '{"a":"tab\there"}', // a raw control character: invalid in a string
    '{"a":1}\t', // valid, but any control character sends the line to JSON.parse
    '{"a":tru}',
    '{"a":1} x',
    '{"a":1',
    '{"a" 1}',
    '{a:1}',
    '["a"]',
  ];
  for (const text of declined) assert.equal(scanner.scan(text), false, text);
  const accepted = [
    '{}',
    ' { } ',
    '{"a":1,"b":-0.5e+3,"c":"x\\"y\\\\z\\/\\b\\f\\n\\r\\t\\u00e9\\uD83D\\uDE00","d":true,"e":false,"f":null}',
    '{ "a" : "spaced" , "b" : 2 } ',
    '{"__proto__":1,"constructor":"x","123":"integer-like key"}',
    '{"nl":"a\\u000Ab"}',
    '{"lone":"\\ud800"}',
  ];
  for (const text of accepted) assert.equal(assertAgrees(text, scanner), true, text);
});

test('fuzz: mutated python-json-logger lines are either declined or read exactly as JSON.parse reads them', () => {
  const base = JSON.stringify({
    asctime: '2026-11-27 12:00:00,123',
    levelname: 'INFO',
    message: 'caf\u00e9 "quoted" \\ back\nslash',
    process: 4242,
    duration_ms: 1.25e2,
    ok: true,
    user: null,
  });
  const alphabet = '{}[]":,\\ \t0123456789-+.eEnulltruefalsu"\u00e9\u0001';
  let seed = 42;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const scanner = new ScannedObject();
  let accepted = 0;
  for (let k = 0; k < 20000; k++) {
    let text = base;
    for (let e = 1 + rand(3); e > 0; e--) {
      const at = rand(text.length);
      const op = rand(3);
      const ch = alphabet[rand(alphabet.length)]!;
      text = op === 0 ? text.slice(0, at) + text.slice(at + 1) : op === 1 ? text.slice(0, at) + ch + text.slice(at) : text.slice(0, at) + ch + text.slice(at + 1);
    }
    if (assertAgrees(text, scanner)) accepted++;
  }
  // Both outcomes occur: the fuzz exercised acceptance as well as refusal.
  assert.ok(accepted > 100 && accepted < 20000, `accepted ${accepted}`);
});
