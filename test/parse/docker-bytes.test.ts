import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createDockerParser } from '../../src/parse/docker.js';
import { DockerTimeBytes } from '../../src/parse/docker-bytes.js';
import { isoFromDocker } from '../../src/parse/time.js';
import { readBothWays as readBoth, type Emitted } from '../support/both-ways.js';
import { parserContext } from '../support/parsing.js';

const CID = 'c'.repeat(64);
const PATH = `/var/lib/docker/containers/${CID}/${CID}-json.log`;
const NOW = Date.UTC(2026, 10, 27, 13, 0, 0);

/** The records of a json-file read both ways (test/support/both-ways.ts), and how many lines the byte way took. */
function readBothWays(file: string, maxRecordBytes = 64 * 1024, data = Buffer.from(file, 'utf8')): { strings: Emitted[]; bytes: Emitted[]; taken: number } {
  const context = parserContext(PATH, { maxRecordBytes });
  return readBoth(data, (emit, placement) => createDockerParser(context, CID, emit, placement), NOW);
}

const time = (n: number): string => `2026-11-27T12:00:${String(Math.floor(n / 1000) % 60).padStart(2, '0')}.${String(123456789 + n * 997).slice(-9)}Z`;
const entry = (log: string, stream: string, n: number): string => JSON.stringify({ log, stream, time: time(n) }) + '\n';

test('a file read with plain lines taken from their bytes gives the documents the string way gives, line for line', () => {
  const logs = [
    '10.0.0.1 - - [27/Nov/2026:12:00:00 +0000] "GET /api/items/1?page=2 HTTP/1.1" 200 1834 "-" "Mozilla/5.0"\n',
    'a tab\there, a slash / and \\ a backslash\n',
    'escaped \u0007 bell and unicode \u00e9\n', // non-ASCII: the string way
    'ends with a carriage return\r\n',
    'a literal backslash-n: \\n in the text\n',
    'two\nlines in one entry\n',
    'a piece without its end', // a 16 KiB piece's shape: no trailing \n
    ' and its end\n',
    '{"asctime": "2026-11-27 12:00:00,000", "levelname": "INFO", "message": "django json inside"}\n',
    '[2026-11-27 12:00:00,000] ERROR django.request: text header\n',
    'Traceback (most recent call last):\n',
    '  File "app.py", line 1, in <module>\n',
    'ValueError: boom\n',
    'after the traceback\n',
    '\n',
    'x\n',
    'quote " inside and \\" escaped\n',
    '\u0000 a NUL\n',
    'plain stderr line\n',
  ];
  let file = '';
  let n = 0;
  for (const log of logs) file += entry(log, n % 3 === 2 ? 'stderr' : 'stdout', n++);
  // Lines the byte way must leave to the string way: other key orders, extra keys, odd streams and times, a raw
  // control character, non-ASCII bytes, spaces, a CRLF line end, broken JSON.
  file += '{"stream":"stdout","log":"keys in another order\\n","time":"2026-11-27T12:00:01.5Z"}\n';
  file += '{"log":"an extra key\\n","stream":"stdout","time":"2026-11-27T12:00:01.5Z","attrs":{}}\n';
  file += '{"log":"odd stream\\n","stream":"stdin","time":"2026-11-27T12:00:01.5Z"}\n';
  file += '{"log":"bad date\\n","stream":"stdout","time":"2026-02-30T12:00:01.5Z"}\n';
  file += '{"log":"other zone\\n","stream":"stdout","time":"2026-11-27T12:00:01.5+01:00"}\n';
  file += '{"log":"raw \u0001 control\\n","stream":"stdout","time":"2026-11-27T12:00:01.5Z"}\n';
  file += '{"log":"raw é byte\\n","stream":"stdout","time":"2026-11-27T12:00:01.5Z"}\n';
  file += '{"log": "spaced\\n", "stream": "stdout", "time": "2026-11-27T12:00:01.5Z"}\n';
  file += '{"log":"crlf line end\\n","stream":"stdout","time":"2026-11-27T12:00:01.5Z"}\r\n';
  file += '{"log":"broken\\n","stream":"stdout","time":"2026-11-27T12:00:01.5Z"\n';
  file += '{"log":"bad escape \\q\\n","stream":"stdout","time":"2026-11-27T12:00:01.5Z"}\n';
  // Texts the string way's fast path declines (then decodes: its "\/" and "\u00e9" come out as "/" and "é", not as
  // written), so the byte way must decline them too: a literal backslash before n, u000, r + the final \n, or \n.
  file += '{"log":"literal \\\\n then an escaped slash \\/\\n","stream":"stdout","time":"2026-11-27T12:00:01.5Z"}\n';
  file += '{"log":"nul \\u0000 and \\u00e9\\n","stream":"stdout","time":"2026-11-27T12:00:01.5Z"}\n';
  file += '{"log":"literal \\\\u0000 text \\u00e9\\n","stream":"stdout","time":"2026-11-27T12:00:01.5Z"}\n';
  file += '{"log":"x \\/ ends \\\\r\\n","stream":"stdout","time":"2026-11-27T12:00:01.5Z"}\n';
  file += '{"log":"x \\/ ends with a backslash \\\\\\n","stream":"stdout","time":"2026-11-27T12:00:01.5Z"}\n';
  file += '{"log":"x \\/ ends with a return \\r\\n","stream":"stdout","time":"2026-11-27T12:00:01.5Z"}\n';
  for (let i = 0; i < 50; i++) file += entry(`10.0.0.${i} GET /item/${i} 200 "ok"\n`, i % 2 ? 'stdout' : 'stderr', n++);
  const { strings, bytes, taken } = readBothWays(file);
  assert.deepEqual(bytes, strings);
  assert.ok(taken >= 55, `taken ${taken}`);
  assert.ok(taken < strings.length - 10, `taken ${taken} of ${strings.length}`);
  // And a long line is left to the string way, which measures it for truncation.
  const long = readBothWays(entry('y'.repeat(30_000) + '\n', 'stdout', 0), 64 * 1024);
  assert.deepEqual(long.bytes, long.strings);
  assert.equal(long.taken, 0);
});

test('fuzz: mutated Docker lines read from their bytes give the string way\'s documents', () => {
  const base = JSON.stringify({ log: 'GET /api/x?q="a\\b" 200 \u00e9\t/ok\n', stream: 'stdout', time: '2026-11-27T12:00:00.123456789Z' });
  const alphabet = '{}[]":,\\ \tnrtu0123456789abcdefABZ+-.\u00e9\u0001/';
  let seed = 7;
  const rand = (k: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % k;
  };
  let file = '';
  for (let k = 0; k < 4000; k++) {
    let text = base;
    for (let e = rand(3); e > 0; e--) {
      const at = rand(text.length);
      const op = rand(3);
      const ch = alphabet[rand(alphabet.length)]!;
      text = op === 0 ? text.slice(0, at) + text.slice(at + 1) : op === 1 ? text.slice(0, at) + ch + text.slice(at) : text.slice(0, at) + ch + text.slice(at + 1);
    }
    file += text.replaceAll('\n', '') + '\n';
    // Now and then a plain line, so that what follows a declined line is taken again.
    if (rand(4) === 0) file += entry(`plain ${k}\n`, 'stderr', k);
  }
  const { strings, bytes, taken } = readBothWays(file);
  assert.equal(bytes.length, strings.length);
  for (let i = 0; i < strings.length; i++) assert.deepEqual(bytes[i], strings[i], `record ${i}`);
  assert.ok(taken > 1000 && taken < strings.length, `taken ${taken} of ${strings.length}`);
});

test('a byte the byte way must not take as plain, at every position of a long log string, gives the string way\'s documents', () => {
  // The log string is skipped four bytes at a time (parse/plain-words.ts): a raw control character, quote or
  // backslash, a non-ASCII or invalid UTF-8 byte must stop it at any offset within a word, after any line length.
  const hostile = [0x00, 0x01, 0x09, 0x0a, 0x0d, 0x1f, 0x22, 0x5c, 0x7f, 0x80, 0xc3, 0xe9, 0xff];
  const parts: Buffer[] = [];
  let lines = 0;
  for (const b of hostile) {
    for (let at = 0; at < 44; at++) {
      const text = Buffer.from('GET /static/js/main.0123abcd.chunk.js HTTP/1.1 200 5120 seq=' + at);
      text[at] = b;
      const line = Buffer.concat([Buffer.from('{"log":"'), text, Buffer.from('\\n","stream":"stdout","time":"2026-11-27T12:00:00.123456789Z"}\n')]);
      // Lines of every length mod 4, so that the log string starts at every offset within a word.
      parts.push(Buffer.from(entry(`${'x'.repeat(at % 4)}\n`, 'stdout', at)), line);
      lines += 2;
    }
  }
  const file = Buffer.concat(parts);
  const { strings, bytes, taken } = readBothWays('', 64 * 1024, file);
  assert.equal(bytes.length, strings.length);
  for (let i = 0; i < strings.length; i++) assert.deepEqual(bytes[i], strings[i], `record ${i}`);
  // The plain lines between were taken, but for those whose log is only its "\n" (a quarter: declined, see
  // plainEntryAt).
  assert.ok(taken >= ((lines / 2) * 3) / 4, `taken ${taken} of ${lines}`);
});

test('property: Docker times read as bytes are what isoFromDocker reads, the same second reused or not', () => {
  const second = fc.constantFrom('2026-11-27T12:00:00', '2026-11-27T12:00:01', '2026-02-30T12:00:00', '2026-11-27 12:00:00');
  const rest = fc.oneof(
    fc.stringMatching(/^\.[0-9]{1,9}Z$/),
    fc.constantFrom('Z', '.Z', '.12x4Z', '.5z', '.123+01:00', '+00:00', '.1234567890123Z', ''),
  );
  fc.assert(
    fc.property(fc.array(fc.tuple(second, rest), { minLength: 1, maxLength: 30 }), (times) => {
      const bytes = new DockerTimeBytes();
      let expected: string | null = null;
      for (const [s, r] of times) {
        const text = s + r;
        const read = isoFromDocker(text);
        const buf = Buffer.from(`"${text}"`, 'latin1');
        assert.equal(bytes.read(buf, 1, buf.length - 1), read !== null, text);
        if (read !== null) expected = read;
        assert.equal(bytes.text(), expected, text);
        const out = Buffer.alloc(64);
        assert.equal(out.toString('latin1', 0, bytes.copyTo(out, 0)), expected ?? '');
      }
    }),
    { numRuns: 1000 },
  );
});
