import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createCriParser } from '../../src/parse/cri.js';
import { CriLineReader } from '../../src/parse/cri-line.js';
import type { Line, ParserContext } from '../../src/parse/types.js';
import type { ParsedRecord } from '../../src/parse/document.js';
import type { ContainerInfo } from '../../src/containers/metadata.js';
import { decoded, parserContext, type DecodedRecord } from '../support/parsing.js';
import { parseFile } from '../support/parse-file.js';
import { criLines, rfc3339Nano } from '../support/kubelet.js';

const PATH = '/var/log/pods/shop_web-7d9f8c6b5-x2x9q_0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b/django/0.log';
const POD: ContainerInfo = {
  id: 'c0ffee00'.repeat(8),
  name: 'django',
  kubernetes: { namespace: 'shop', podName: 'web-7d9f8c6b5-x2x9q', podUid: '0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b', containerName: 'django' },
};
const ctx = (over: Partial<ParserContext> = {}): ParserContext => parserContext(PATH, { container: POD, ...over });
/** 2026-12-05T10:00:00Z in nanoseconds, and the n-th line's time a little after it. */
const T0 = BigInt(Date.UTC(2026, 11, 5, 10, 0, 0)) * 1_000_000n;
const at = (n: number, offsetMinutes = 0): string => rfc3339Nano(T0 + BigInt(n) * 1_234_567n, offsetMinutes);

test('whole lines: @timestamp from the line\'s nanosecond time, stream, message, the pod\'s facts', () => {
  const file = Buffer.concat([
    criLines('stdout', 'GET /health 200', '2026-12-05T10:00:00.123456789Z'),
    criLines('stderr', 'warning: disk 91% full', '2026-12-05T11:00:00.5+01:00'),
    criLines('stdout', '', '2026-12-05T10:00:01Z'),
    criLines('stdout', 'spaces  inside   kept ', '2026-12-05T10:00:02.000001Z'),
  ]);
  const { rows } = parseFile('cri', ctx(), file);
  assert.deepEqual(
    rows.map((r) => [r.doc['@timestamp'], r.doc.stream, r.doc.message]),
    [
      ['2026-12-05T10:00:00.123Z', 'stdout', 'GET /health 200'],
      ['2026-12-05T11:00:00.500+01:00', 'stderr', 'warning: disk 91% full'],
      ['2026-12-05T10:00:01.000Z', 'stdout', ''],
      ['2026-12-05T10:00:02.000Z', 'stdout', 'spaces  inside   kept '],
    ],
  );
  const first = rows[0]!.doc;
  assert.deepEqual(first.container, { id: POD.id, name: 'django' });
  assert.deepEqual(first.kubernetes, {
    namespace: 'shop',
    pod: { name: 'web-7d9f8c6b5-x2x9q', uid: '0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b' },
    container: { name: 'django' },
  });
  assert.equal(first.log.file.path, PATH);
  assert.equal(first.tags, undefined);
  // Each record is its own line's bytes, and the checkpoint may pass each.
  let offset = 0;
  for (const r of rows) {
    assert.equal(r.start, offset);
    assert.equal(r.doc.log.offset, offset);
    offset = r.end;
  }
  assert.equal(offset, file.length);
});

test('a line containerd cut into 16 KiB pieces is one record again, with stderr lines between its pieces, and characters cut between pieces whole', () => {
  // 40,000 bytes of mixed text: the 16,384-byte cuts fall inside the 3- and 4-byte characters.
  const long = ('ü€😀 long line ').repeat(2000).slice(0, 40_000);
  const bytes = Buffer.from(long);
  const pieces = criLines('stdout', bytes, at(1)).toString('latin1').split('\n').filter((l) => l !== '');
  assert.equal(pieces.length, Math.ceil(bytes.length / 16384));
  assert.ok(pieces.slice(0, -1).every((p) => p.includes(' stdout P ')) && pieces.at(-1)!.includes(' stdout F '));
  const err1 = criLines('stderr', 'between pieces 1', at(2));
  const err2 = criLines('stderr', 'between pieces 2', at(3));
  const file = Buffer.concat([
    Buffer.from(pieces[0]! + '\n', 'latin1'),
    err1,
    Buffer.from(pieces[1]! + '\n', 'latin1'),
    err2,
    Buffer.from(pieces.slice(2).join('\n') + '\n', 'latin1'),
    criLines('stdout', 'after', at(4)),
  ]);
  // Read in one go, and in reads of 5,000 bytes (pieces then span reads: the splitter hands them over as bytes too).
  for (const readSize of [1 << 20, 5000, 4099]) {
    const { rows, held } = parseFile('cri', ctx(), file, { readSize });
    const out = rows.filter((r) => r.doc.stream === 'stdout');
    const err = rows.filter((r) => r.doc.stream === 'stderr');
    assert.equal(out.length, 2, `read size ${readSize}`);
    assert.equal(out[0]!.doc.message, long.trimEnd() === long ? long : long);
    assert.equal(out[0]!.doc.tags, undefined, 'no replacement characters: the pieces were joined as bytes');
    assert.equal(out[0]!.doc['@timestamp'], rfc3339Nano(T0 + 1_234_567n).slice(0, 23) + 'Z', 'the first piece\'s time');
    assert.equal(out[0]!.start, 0);
    assert.equal(out[1]!.doc.message, 'after');
    assert.deepEqual(err.map((r) => r.doc.message), ['between pieces 1', 'between pieces 2']);
    // While the pieces wait, the checkpoint may not pass their first byte: the stderr records say so.
    for (const r of err) assert.equal(r.safe, 0);
    assert.equal(out[0]!.end, file.length - criLines('stdout', 'after', at(4)).length);
    if (readSize === 5000) assert.ok(held.some((h) => h === 0), 'held from the first piece while it waited');
  }
});

test('Django inside: JSON records parsed, a text record\'s traceback written line by line joined to it, the CRI time kept', () => {
  const json = JSON.stringify({ asctime: '2026-12-05 10:00:00,120', levelname: 'WARNING', name: 'django.request', message: 'Not Found: /api/y', status_code: 404 });
  const file = Buffer.concat([
    criLines('stderr', json, at(1)),
    criLines('stderr', 'ERROR 2026-12-05 10:00:00,130 views 7 139 Internal Server Error: /api/x', at(2)),
    criLines('stderr', 'Traceback (most recent call last):', at(3)),
    criLines('stdout', '10.0.0.7 - - "GET /api/x HTTP/1.1" 500', at(4)),
    criLines('stderr', '  File "/app/views.py", line 12, in get', at(5)),
    criLines('stderr', '    return 1 / 0', at(6)),
    criLines('stderr', 'ZeroDivisionError: division by zero', at(7)),
  ]);
  const { rows } = parseFile('cri', ctx(), file);
  const [warning, error] = rows.filter((r) => r.doc.stream === 'stderr');
  assert.equal(rows.filter((r) => r.doc.stream === 'stderr').length, 2);
  assert.equal(warning!.doc.log.level, 'WARNING');
  assert.equal(warning!.doc.log.logger, 'django.request');
  assert.equal(warning!.doc.message, 'Not Found: /api/y');
  assert.equal(warning!.doc.django?.['status_code'], 404);
  assert.equal(warning!.doc['@timestamp'], rfc3339Nano(T0 + 1_234_567n).slice(0, 23) + 'Z', 'the line\'s own time');
  assert.equal(error!.doc.log.level, 'ERROR');
  assert.equal(error!.doc.message, 'Internal Server Error: /api/x');
  assert.equal(error!.doc.error?.type, 'ZeroDivisionError');
  assert.equal(
    error!.doc.error?.stack_trace,
    ['Traceback (most recent call last):', '  File "/app/views.py", line 12, in get', '    return 1 / 0', 'ZeroDivisionError: division by zero'].join('\n'),
  );
  assert.equal(error!.end, file.length);
  assert.equal(rows.find((r) => r.doc.stream === 'stdout')!.doc.message, '10.0.0.7 - - "GET /api/x HTTP/1.1" 500');
});

test('output that stopped without a newline (a last P piece) ships after the timeout, tagged; a broken line ships tagged', () => {
  const file = Buffer.concat([
    criLines('stdout', 'first', at(1)),
    Buffer.from('garbage that is not CRI\n'),
    criLines('stdout', 'no newline at the end', at(2), { ended: false }),
  ]);
  const { rows } = parseFile('cri', ctx(), file);
  assert.deepEqual(rows.map((r) => r.doc.message), ['first', 'garbage that is not CRI', 'no newline at the end']);
  assert.deepEqual(rows[1]!.doc.tags, ['_logship_parse_error', '_logship_timestamp_missing']);
  assert.equal(rows[1]!.doc['@timestamp'], rfc3339Nano(T0 + 1_234_567n).slice(0, 23) + 'Z', 'the previous line\'s time');
  assert.deepEqual(rows[2]!.doc.tags, ['_logship_partial_line_timeout']);
  assert.equal(rows[2]!.end, file.length);
});

test('a line longer than max_line_bytes in pieces is cut at a character boundary and tagged', () => {
  const long = 'é'.repeat(20_000); // 40,000 bytes in 3 pieces
  const { rows } = parseFile('cri', ctx({ maxRecordBytes: 25_001 }), criLines('stdout', long, at(1)));
  assert.equal(rows.length, 1);
  assert.equal(rows[0]!.doc.message, 'é'.repeat(12_500));
  assert.deepEqual(rows[0]!.doc.tags, ['_logship_truncated']);
});

test('a line of exactly max_line_bytes ending in a CR is whole, in one piece or several; one byte more is cut', () => {
  // The CR a program writes before its newline is not part of the line: the line splitter drops it with the LF of the
  // CRI line that holds the last piece, so it is never measured against the limit (as the Docker parser must do itself).
  const line = 'x'.repeat(20) + '\r';
  for (const maxLen of [1 << 14, 7, 20]) {
    const { rows } = parseFile('cri', ctx({ maxRecordBytes: 20 }), criLines('stdout', line, at(1), { maxLen }));
    assert.deepEqual(rows.map((r) => [r.doc.message, r.doc.tags]), [['x'.repeat(20), undefined]], `pieces of ${maxLen}`);
  }
  const { rows } = parseFile('cri', ctx({ maxRecordBytes: 19 }), criLines('stdout', line, at(1), { maxLen: 7 }));
  assert.deepEqual(rows.map((r) => [r.doc.message, r.doc.tags]), [['x'.repeat(19), ['_logship_truncated']]]);
});

/** Lines fed to push() as decoded text (the tests of parsers without a tailer do the same). */
function lines(buf: Buffer): Line[] {
  const out: Line[] = [];
  let start = 0;
  for (let nl = buf.indexOf(10); nl >= 0; nl = buf.indexOf(10, start)) {
    out.push({ text: buf.toString('utf8', start, nl), start, end: nl + 1, truncated: false, invalidUtf8: false, partial: false });
    start = nl + 1;
  }
  return out;
}

test('pieces held at the end of a rotated file are handed to the next file\'s parser and joined there', () => {
  // kubelet renamed 0.log to 0.log.20261205-100000 while containerd was between the pieces of a line.
  const text = 'x'.repeat(20_000) + ' end';
  const pieces = criLines('stdout', text, at(1)).toString().split('\n');
  const before = criLines('stdout', 'before', at(0)).toString();
  const rotated = Buffer.from(before + pieces[0] + '\n');
  const fresh = Buffer.from(pieces[1] + '\n' + criLines('stdout', 'after', at(2)).toString());
  const oldRecords: DecodedRecord[] = [];
  const old = createCriParser(ctx({ path: `${PATH}.20261205-100000` }), (r) => oldRecords.push(decoded(r)));
  for (const l of lines(rotated)) old.push(l, 0);
  assert.equal(old.heldFrom(), before.length, 'holds the piece');
  const carried = old.exportCarried();
  assert.equal(old.heldFrom(), null, 'handed over: the old file holds nothing');
  old.flush(10_000, true);
  assert.deepEqual(oldRecords.map((r) => r.doc.message), ['before']);
  assert.deepEqual(
    carried.map((c) => [c.index, c.bytes, c.localStart, c.idStart, c.link]),
    [[0, 16384, before.length, before.length, 0]],
    'stdout\'s 16 KiB piece, begun in the rotated file',
  );

  const newRecords: ParsedRecord[] = [];
  const next = createCriParser(ctx(), (r) => newRecords.push(r));
  next.importCarried(carried[0]!, 7, 0);
  assert.equal(next.heldFrom(), 0, 'this file is held from where its part of the line begins');
  for (const l of lines(fresh)) next.push(l, 1);
  const joined = decoded(newRecords[0]!);
  assert.deepEqual(newRecords.map((r) => decoded(r).doc.message), [text, 'after']);
  assert.deepEqual([newRecords[0]!.start, newRecords[0]!.end, newRecords[0]!.link], [0, pieces[1]!.length + 1, 7], 'this file\'s range, linked');
  assert.equal(joined.doc['log']['offset'], before.length, 'log.offset: where it began, in the rotated file');
  assert.equal(newRecords[1]!.link, 0);
  assert.equal(next.heldFrom(), null);
  assert.equal(joined.doc['@timestamp'], rfc3339Nano(T0 + 1_234_567n).slice(0, 23) + 'Z', 'the first piece\'s time');
});

// ---- properties -------------------------------------------------------------------------------------------------

/** The ISO form isoFromDocker gives for an instant, computed independently with Date. */
function expectedIso(epochNs: bigint, offsetMinutes: number): string {
  const local = new Date(Number((epochNs + BigInt(offsetMinutes) * 60_000_000_000n) / 1_000_000n)).toISOString().slice(0, 23);
  if (offsetMinutes === 0) return local + 'Z';
  const abs = Math.abs(offsetMinutes);
  return `${local}${offsetMinutes > 0 ? '+' : '-'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

const instant = fc.bigInt({ min: 86_400_000_000_000n, max: 4_102_444_800_000_000_000n }); // 1970 … 2100
const offset = fc.constantFrom(0, 60, -300, 330, 765, -720);
const content = fc.string({ unit: 'binary', maxLength: 60 }).filter((s) => !s.includes('\n'));

test('property: a CRI line reads back as its time, stream, tag and content, as text and as bytes', () => {
  const reader = new CriLineReader();
  fc.assert(
    fc.property(instant, offset, fc.constantFrom('stdout', 'stderr'), fc.constantFrom('F', 'P', 'P:x', 'F:x:y', 'X'), content, (ns, off, stream, tag, text) => {
      const line = `${rfc3339Nano(ns, off)} ${stream} ${tag} ${text}`;
      assert.ok(reader.read(line), line);
      assert.equal(reader.time, expectedIso(ns, off));
      assert.equal(reader.stderr, stream === 'stderr');
      assert.equal(reader.partial, tag.split(':')[0] === 'P');
      assert.equal(line.slice(reader.contentAt), text);
      const buf = Buffer.from('\n' + line + '\n');
      assert.ok(reader.readBytes(buf, 1, buf.length - 1));
      assert.ok(reader.readTime(buf));
      assert.equal(reader.time, expectedIso(ns, off));
      assert.equal(reader.stderr, stream === 'stderr');
      assert.equal(reader.partial, tag.split(':')[0] === 'P');
      assert.equal(buf.toString('utf8', reader.contentAt, buf.length - 1), text);
    }),
  );
});

test('property: anything else is refused, never misread, never a throw', () => {
  const reader = new CriLineReader();
  const junk = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 80 }),
    fc.tuple(fc.constantFrom('2026-12-05T10:00:00Z', '2026-13-05T10:00:00Z', 'x', ''), fc.constantFrom('stdout', 'stdin', 'STDOUT', 'stdou', ''), fc.constantFrom('F', '', 'P')).map(
      ([t, s, g]) => `${t} ${s} ${g}`, // no space after the tag: kubelet refuses these too
    ),
  );
  fc.assert(
    fc.property(junk, (line) => {
      const ok = reader.read(line);
      const buf = Buffer.from(line);
      const okBytes = reader.readBytes(buf, 0, buf.length) && reader.readTime(buf);
      assert.equal(okBytes, ok, line);
      if (ok) {
        // Accepted only in the CRI shape: a time, then exactly stdout or stderr, a tag and a space.
        assert.match(line, /^\S+ std(out|err) [^ ]+ /);
      }
    }),
  );
});

test('property: lines cut into pieces anywhere, streams interleaved, read in any sizes, come out whole and in order', () => {
  const message = fc.string({ unit: 'binary', maxLength: 80 }).filter((s) => !/[\n\r]/.test(s));
  const entry = fc.record({ stream: fc.constantFrom('stdout' as const, 'stderr' as const), text: message, maxLen: fc.integer({ min: 1, max: 24 }) });
  fc.assert(
    fc.property(fc.array(entry, { minLength: 1, maxLength: 12 }), fc.integer({ min: 7, max: 300 }), fc.array(fc.nat(), { maxLength: 40 }), (entries, readSize, shuffle) => {
      // Each line's pieces, then the streams' pieces interleaved in a random way that keeps each stream's order.
      const queues: Record<'stdout' | 'stderr', Buffer[]> = { stdout: [], stderr: [] };
      entries.forEach((e, i) => {
        // A prefix keeps the inner Django parser from reading the text as a header or a traceback.
        const text = `m${i}:${e.text}`;
        const lines = criLines(e.stream, text, at(i), { maxLen: e.maxLen });
        for (let from = 0; from < lines.length; ) {
          const nl = lines.indexOf(10, from);
          queues[e.stream].push(lines.subarray(from, nl + 1));
          from = nl + 1;
        }
      });
      const parts: Buffer[] = [];
      let k = 0;
      while (queues.stdout.length + queues.stderr.length > 0) {
        const pick = queues.stdout.length === 0 ? 'stderr' : queues.stderr.length === 0 ? 'stdout' : (shuffle[k++ % Math.max(1, shuffle.length)] ?? 0) % 2 === 0 ? 'stdout' : 'stderr';
        parts.push(queues[pick].shift()!);
      }
      const file = Buffer.concat(parts);
      const { rows } = parseFile('cri', ctx(), file, { readSize });
      for (const stream of ['stdout', 'stderr'] as const) {
        const expected = entries.map((e, i) => ({ ...e, i })).filter((e) => e.stream === stream).map((e) => `m${e.i}:${e.text}`);
        assert.deepEqual(rows.filter((r) => r.doc.stream === stream).map((r) => r.doc.message), expected);
      }
      assert.ok(rows.every((r) => r.doc.tags === undefined), JSON.stringify(rows.map((r) => r.doc.tags)));
      // Every line in exactly one record, and ranges never overlap within a stream.
      assert.equal(new Set(rows.map((r) => r.start)).size, rows.length);
    }),
    { numRuns: 150 },
  );
});
