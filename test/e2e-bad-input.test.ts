/**
 * End to end with input a log shipper must survive: invalid UTF-8, a 5 MB line, malformed JSON, an unreadable
 * file. Nothing crashes, every record is shipped exactly once, and what had to be changed is tagged.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, chmodSync, chownSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, checkExactlyOnce, parseAgentLog, runOnce, runPythonWriter, seqsOf } from './support/agent.js';
import { appendSeqLines, dockerLine, INDEX, scenario, type Scenario } from './support/scenario.js';

const open: Scenario[] = [];
after(() => Promise.all(open.map((s) => s.close())));

async function djangoScenario(paths: (logs: string) => string[], extra: Record<string, unknown> = {}): Promise<Scenario> {
  const s = await scenario((logs) => [{ type: 'django', paths: paths(logs), timezone: 'UTC' }], extra);
  open.push(s);
  return s;
}

type Doc = Record<string, any>;

function docs(s: Scenario): Doc[] {
  return [...(s.es.docs.get(INDEX)?.values() ?? [])];
}

function bySeq(s: Scenario): Map<number, Doc> {
  const out = new Map<number, Doc>();
  for (const d of docs(s)) out.set(seqsOf([String(d['message'])])[0]!, d);
  return out;
}

function jsonLine(seq: number, extra = ''): string {
  return JSON.stringify({ asctime: '2026-11-27 12:00:00,000', levelname: 'INFO', name: 'test', message: `line seq=${seq} ${extra}` }) + '\n';
}

test('invalid UTF-8 and a 5 MB line among normal lines: every line ships, tagged, exit code 0', async () => {
  const MAX = 1_048_576;
  const s = await djangoScenario((logs) => [join(logs, 'django.log')], { max_line_bytes: MAX });
  const file = join(s.logs, 'django.log');
  appendSeqLines(file, 0, 100);
  // seq=100: a JSON line whose message holds bytes that are not UTF-8 (a lone 0xff, a truncated 3-byte sequence).
  const bad = Buffer.concat([
    Buffer.from('{"asctime": "2026-11-27 12:00:00,000", "levelname": "INFO", "name": "test", "message": "line seq=100 bad '),
    Buffer.from([0xff, 0xe2, 0x82]),
    Buffer.from(' end"}\n'),
  ]);
  appendFileSync(file, bad);
  appendSeqLines(file, 101, 200);
  // seq=200: a 5 MB record in Django's "verbose" text format (a header line, no newline for 5 MB).
  const header = 'INFO 2026-11-27 12:00:00,000 views 4242 140245 ';
  const huge = `${header}line seq=200 ${'x'.repeat(5 * 1024 * 1024)}\n`;
  appendFileSync(file, huge);
  appendSeqLines(file, 201, 300);

  const { code, logs } = await runOnce(s.config);
  assert.equal(code, 0, `exit code; errors: ${JSON.stringify(logs.filter((l) => l['level'] === 'error'))}`);
  assert.equal(checkExactlyOnce(seqsOf(s.stored()), 300), null);

  const all = bySeq(s);
  const invalid = all.get(100)!;
  assert.equal(invalid['message'], 'line seq=100 bad \uFFFD\uFFFD end');
  assert.deepEqual(invalid['tags'], ['_logship_invalid_utf8']);
  assert.equal(invalid['log']['level'], 'INFO');
  const offsetOf100 = Buffer.byteLength(Array.from({ length: 100 }, (_, i) => jsonLine(i)).join(''));
  assert.equal(invalid['log']['offset'], offsetOf100);

  const big = all.get(200)!;
  assert.deepEqual(big['tags'], ['_logship_truncated']);
  assert.equal(big['log']['level'], 'INFO');
  // The line was cut to max_line_bytes; the message is that line after the header.
  assert.equal(Buffer.byteLength(String(big['message'])), MAX - header.length);
  assert.ok(String(big['message']).startsWith('line seq=200 xxxx'));
  assert.match(String(big['message']), /^line seq=200 x+$/);
  assert.equal(big['log']['offset'], offsetOf100 + bad.length + Buffer.byteLength(Array.from({ length: 99 }, (_, i) => jsonLine(101 + i)).join('')));

  // The lines after both are normal documents.
  for (const seq of [101, 201, 299]) {
    const d = all.get(seq)!;
    assert.equal(d['message'], `line seq=${seq} `);
    assert.equal(d['tags'], undefined, `seq=${seq} is not tagged`);
  }
  assert.equal(all.get(201)!['log']['offset'], offsetOf100 + bad.length + Buffer.byteLength(Array.from({ length: 99 }, (_, i) => jsonLine(101 + i)).join('')) + huge.length);
});

test('malformed JSON lines in a django input: shipped as plain messages tagged _logship_parse_error', async () => {
  const s = await djangoScenario((logs) => [join(logs, 'django.log')]);
  const file = join(s.logs, 'django.log');
  const malformed = new Map<number, string>([
    [10, '{"asctime": "2026-11-27 12:00:00,000", "levelname": "INFO", "message": "line seq=10 cut'],
    [20, '{"message": "line seq=20", "levelname": INFO}'],
    [30, "{'message': 'line seq=30 python repr, not JSON'}"],
    [40, '{"message": "line seq=40 trailing comma",}'],
  ]);
  let body = '';
  const offsets = new Map<number, number>();
  for (let i = 0; i < 50; i++) {
    offsets.set(i, Buffer.byteLength(body));
    body += malformed.has(i) ? malformed.get(i)! + '\n' : jsonLine(i);
  }
  writeFileSync(file, body);

  const { code } = await runOnce(s.config);
  assert.equal(code, 0);
  assert.equal(checkExactlyOnce(seqsOf(s.stored()), 50), null);
  const all = bySeq(s);
  for (const [seq, text] of malformed) {
    const d = all.get(seq)!;
    assert.equal(d['message'], text, `seq=${seq} shipped as the raw line`);
    assert.ok(Array.isArray(d['tags']) && d['tags'].includes('_logship_parse_error'), `seq=${seq} tags: ${JSON.stringify(d['tags'])}`);
    assert.equal(d['log']['offset'], offsets.get(seq));
  }
  for (const seq of [0, 9, 11, 49]) {
    const d = all.get(seq)!;
    assert.equal(d['message'], `line seq=${seq} `);
    assert.equal(d['tags'], undefined);
    assert.equal(d['log']['offset'], offsets.get(seq));
  }
});

/** How to run a command as user nobody, or null when this machine offers none. */
function asNobody(): string[] | null {
  for (const candidate of [
    ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'],
    ['runuser', '-u', 'nobody', '--'],
  ]) {
    for (const dir of ['/usr/bin', '/bin', '/usr/sbin', '/sbin']) {
      if (existsSync(join(dir, candidate[0]!))) return [join(dir, candidate[0]!), ...candidate.slice(1)];
    }
  }
  return null;
}

const dropPrivileges = process.getuid?.() === 0 ? asNobody() : [];

test(
  'an unreadable file: a clear error naming it, the other files keep shipping',
  { skip: dropPrivileges === null ? 'running as root without setpriv or runuser: permissions would not apply' : false },
  async () => {
    // The agent runs as nobody when the tests run as root: everything it needs must be nobody's.
    const s = await djangoScenario((logs) => [join(logs, '*.log')]);
    const readable = join(s.logs, 'a.log');
    const unreadable = join(s.logs, 'secret.log');
    appendSeqLines(readable, 0, 500);
    writeFileSync(unreadable, jsonLine(1_000_000));
    chmodSync(unreadable, 0o000);
    if (dropPrivileges!.length > 0) {
      for (const p of [s.dir, s.logs, readable, s.config]) chownSync(p, 65534, 65534);
      mkdirSync(join(s.dir, 'data'));
      chownSync(join(s.dir, 'data'), 65534, 65534);
    }
    const [cmd, ...prefix] = dropPrivileges!.length > 0 ? dropPrivileges! : [process.execPath];
    const args = [...prefix, ...(dropPrivileges!.length > 0 ? [process.execPath] : []), CLI, 'run', '--once', '--config', s.config];
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((res) => {
      const child = spawn(cmd!, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.on('close', (c) => {
        clearTimeout(timer);
        res({ code: c, stderr: err });
      });
    });
    const logs = parseAgentLog(stderr);
    const naming = logs.filter((l) => (l['level'] === 'error' || l['level'] === 'warn') && JSON.stringify(l).includes(unreadable));
    assert.ok(naming.length > 0, `a warning or error names ${unreadable}:\n${stderr}`);
    assert.match(JSON.stringify(naming[0]), /EACCES|permission denied/i, `and says why: ${JSON.stringify(naming[0])}`);
    assert.equal(checkExactlyOnce(seqsOf(s.stored()), 500), null);
    assert.notEqual(code, null, 'the agent finished');
    assert.equal(code, 0, `exit code; stderr:\n${stderr.slice(-3000)}`);
  },
);

test('a 5 MB Django JSON line keeps its @timestamp, level and logger: the message is truncated, not the JSON text', async () => {
  const MAX = 1_048_576;
  const s = await djangoScenario((logs) => [join(logs, 'django.log')], { max_line_bytes: MAX });
  const file = join(s.logs, 'django.log');
  appendSeqLines(file, 0, 100);
  // Written by python-json-logger: asctime, levelname, name, module, process, thread, then the 5 MB message.
  await runPythonWriter([file, '--count', '1', '--start', '100', '--pad', String(5 * 1024 * 1024)]);
  appendSeqLines(file, 101, 200);

  const { code } = await runOnce(s.config);
  assert.equal(code, 0);
  assert.equal(checkExactlyOnce(seqsOf(s.stored()), 200), null);
  const big = bySeq(s).get(100)!;
  assert.deepEqual(big['tags'], ['_logship_truncated']);
  assert.match(String(big['@timestamp']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.equal(big['log']['level'], 'INFO');
  assert.equal(big['log']['logger'], 'django.request');
  assert.equal(big['log']['origin']['file']['name'], 'django_writer');
  assert.ok(Number.isInteger(big['process']['pid']));
  assert.match(String(big['message']), /^GET \/api\/items\/100 200 seq=100 x+$/);
  assert.ok(Buffer.byteLength(String(big['message'])) < MAX);
  assert.ok(Buffer.byteLength(String(big['message'])) > MAX - 1024, 'the message keeps what arrived');
  for (const seq of [99, 101]) assert.equal(bySeq(s).get(seq)!['tags'], undefined);
});

test("consecutive Python crashes on a container's stderr: one record per traceback, each with its time and message", async () => {
  const id = 'deadbeef'.repeat(8);
  const s = await scenario((logs) => [{ type: 'docker', paths: [join(logs, 'containers/*/*-json.log')] }]);
  open.push(s);
  const dir = join(s.logs, 'containers', id);
  mkdirSync(dir, { recursive: true });
  let body = '';
  const time = (crash: number, line: number): string => `2026-11-27T12:${String(Math.floor(crash / 60)).padStart(2, '0')}:${String(crash % 60).padStart(2, '0')}.${String(line).padStart(9, '0')}Z`;
  for (let crash = 0; crash < 200; crash++) {
    // A worker that crashes at start-up and is restarted (restart: always): Python's uncaught-exception output.
    const lines = [
      'Traceback (most recent call last):',
      '  File "/app/manage.py", line 22, in <module>',
      '    main()',
      '    ^^^^^^',
      `RuntimeError: crash seq=${crash}`,
    ];
    lines.forEach((l, k) => (body += dockerLine(`${l}\n`, 'stderr', time(crash, k))));
  }
  writeFileSync(join(dir, `${id}-json.log`), body);

  const { code } = await runOnce(s.config);
  assert.equal(code, 0);
  assert.equal(checkExactlyOnce(seqsOf(s.stored()), 200), null);
  for (const [crash, d] of bySeq(s)) {
    assert.equal(d['@timestamp'], time(crash, 0).replace(/\.(\d{3})\d{6}Z$/, '.$1Z'));
    assert.equal(d['message'], `RuntimeError: crash seq=${crash}`);
    assert.deepEqual(d['error']['type'], 'RuntimeError');
    assert.equal(String(d['error']['stack_trace']).split('Traceback').length, 2, 'one traceback per record');
  }
});

test('a binary file matched by the glob is skipped with a warning naming it, counted; the logs beside it ship', async () => {
  const s = await djangoScenario((logs) => [join(logs, '*')]);
  appendSeqLines(join(s.logs, 'django.log'), 0, 50);
  const binary = join(s.logs, 'core.1234');
  const bytes = Buffer.alloc(20_000);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7) % 256;
  writeFileSync(binary, bytes);

  const { code, logs } = await runOnce(s.config);
  assert.equal(code, 0);
  assert.equal(checkExactlyOnce(seqsOf(s.stored()), 50), null);
  assert.equal(docs(s).length, 50, 'nothing of the binary file');
  const warnings = logs.filter((l) => l['level'] === 'warn' && l['path'] === binary);
  assert.equal(warnings.length, 1, JSON.stringify(logs.filter((l) => l['level'] === 'warn')));
  assert.match(String(warnings[0]!['msg']), /not text/);
  const summary = logs.find((l) => l['msg'] === 'logship stopped')!;
  assert.equal(summary['files_skipped'], 1);
});
