/**
 * End to end through rotation, truncation and deletion: the built CLI in follow mode against the test
 * Elasticsearch. Each test counts unique records written vs. stored (0 lost, 0 duplicated) and ends with SIGTERM,
 * which must exit 0.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  appendFileSync,
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { checkExactlyOnce, runPythonWriter, seqsOf, StartedAgents, waitFor, type AgentProcess } from './support/agent.js';
import { appendSeqLines, dockerLine, INDEX, scenario, type Scenario } from './support/scenario.js';

const open: Scenario[] = [];
const agents = new StartedAgents();
after(async () => {
  agents.killRunning();
  await Promise.all(open.map((s) => s.close()));
});

/** A django input whose path is the exact file `logs/django.log`, as users configure it. */
async function djangoScenario(extra: Record<string, unknown> = {}): Promise<Scenario> {
  const s = await scenario((logs) => [{ type: 'django', paths: [join(logs, 'django.log')], timezone: 'UTC' }], extra);
  open.push(s);
  return s;
}

function start(s: Scenario): AgentProcess {
  return agents.start(s.config);
}

type Doc = Record<string, any>;

/** Messages of probe lines start with this; they carry no seq and are left out of the counts. */
const PROBE = 'probe ';

function docs(s: Scenario): Doc[] {
  return [...(s.es.docs.get(INDEX)?.values() ?? [])];
}

function probes(s: Scenario): number {
  return s.stored().filter((m) => m.startsWith(PROBE)).length;
}

/** Waits until `n` documents are stored, or until the count has not moved for `quietMs` (then the check reports). */
async function settle(s: Scenario, n: number, timeoutMs: number, quietMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  let lastChange = Date.now();
  while (Date.now() < deadline) {
    const c = s.es.count(INDEX);
    if (c >= n) break;
    if (c !== last) {
      last = c;
      lastChange = Date.now();
    } else if (Date.now() - lastChange >= quietMs) {
      break;
    }
    await sleep(50);
  }
  await sleep(400); // a duplicate sent late would show up now
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** "3-7, 12, 40-99" */
function ranges(nums: number[]): string {
  const sorted = [...nums].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    out.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  const shown = out.slice(0, 30).join(', ');
  return out.length > 30 ? `${shown}, … (${out.length} ranges)` : shown;
}

/** Which file (still on disk) held each seq, for the diagnosis of lost records. */
function seqHomes(dir: string, prefix: string): Map<number, string> {
  const homes = new Map<number, string>();
  for (const name of readdirSync(dir)) {
    if (!name.startsWith(prefix)) continue;
    const text = readFileSync(join(dir, name), 'utf8');
    for (const m of text.matchAll(/seq=(\d+)/g)) homes.set(Number(m[1]), name);
  }
  return homes;
}

/**
 * Asserts every seq in [0, expected) was stored exactly once; on failure the message lists lost and duplicated
 * seqs as ranges, the files the lost ones were in (when still on disk), and the agent's rotation-related log lines.
 */
function assertExactlyOnce(s: Scenario, expected: number, agentLogs: Record<string, unknown>[][], homes?: Map<number, string>): void {
  const messages = s.stored().filter((m) => !m.startsWith(PROBE));
  const withSeq = messages.filter((m) => /seq=\d+/.test(m));
  // A document without a seq is a piece of a record shipped on its own: reported, and it fails the test.
  const pieces = messages.filter((m) => !/seq=\d+/.test(m));
  const seqs = seqsOf(withSeq);
  const problem = checkExactlyOnce(seqs, expected);
  if (problem === null && pieces.length === 0) return;
  const counts = new Map<number, number>();
  for (const q of seqs) counts.set(q, (counts.get(q) ?? 0) + 1);
  const lost: number[] = [];
  for (let i = 0; i < expected; i++) if (!counts.has(i)) lost.push(i);
  const dup = [...counts].filter(([, c]) => c > 1).map(([q]) => q);
  let where = '';
  if (homes && lost.length > 0) {
    const byFile = new Map<string, number[]>();
    for (const q of lost) {
      const f = homes.get(q) ?? '(file deleted)';
      byFile.set(f, [...(byFile.get(f) ?? []), q]);
    }
    const fileSeqs = new Map<string, number>();
    for (const f of homes.values()) fileSeqs.set(f, (fileSeqs.get(f) ?? 0) + 1);
    where =
      '\nlost per file: ' +
      [...byFile]
        .map(([f, qs]) => `${f}: ${qs.length}${fileSeqs.has(f) ? `/${fileSeqs.get(f)} of its records` : ''} [${ranges(qs)}]`)
        .join('; ');
  }
  const logs = agentLogs
    .flat()
    .filter((l) => l['level'] !== 'debug' || /rotat|truncat|released|gone|never seen|moved|deleted/i.test(String(l['msg'])))
    .filter((l) => !/^(logship starting|connected to Elasticsearch|installed index template|signal received)$/.test(String(l['msg'])))
    .map((l) => JSON.stringify(l).slice(0, 400));
  const piecesText =
    pieces.length === 0
      ? ''
      : `\n${pieces.length} documents without a seq (pieces of records): ` +
        pieces.slice(0, 3).map((m) => JSON.stringify(m.length > 120 ? `${m.slice(0, 120)}… (${m.length} chars)` : m)).join(', ');
  // The documents behind the first duplicated seqs: a record cut in two shows here.
  const dupDocs = docs(s)
    .filter((d) => dup.slice(0, 3).some((q) => new RegExp(`seq=${q}(?!\\d)`).test(String(d['message']))))
    .map((d) => JSON.stringify({ message: String(d['message']).slice(0, 160), offset: d['log']?.['offset'], tags: d['tags'] }));
  const dupText = dupDocs.length === 0 ? '' : `\ndocuments of duplicated seqs:\n${dupDocs.join('\n')}`;
  assert.fail(
    `${problem ?? 'no seq lost or duplicated'}\nlost: [${ranges(lost)}]\nduplicated: [${ranges(dup)}]${where}${piecesText}${dupText}\n` +
      `stored ${s.es.count(INDEX)} documents, ${s.es.stats.items} bulk items sent\nagent logs:\n${logs.slice(-60).join('\n')}`,
  );
}

/**
 * Appends probe lines (messages without a seq, left out of the counts) to `file` until one is stored: from then
 * on the agent is following the file. A writer started before that could rotate files the agent never knew of.
 */
async function following(s: Scenario, file: string): Promise<void> {
  let n = 0;
  await waitFor(
    () => {
      const line = { asctime: '2026-11-27 12:00:00,000', levelname: 'INFO', name: 'test', message: `${PROBE}${n++}` };
      appendFileSync(file, JSON.stringify(line) + '\n');
      return s.stored().some((m) => m.startsWith(PROBE));
    },
    15_000,
    'the agent to follow the file (a probe line stored)',
  );
}

/** No record was sent twice; when one was, which ones, and what the agent said about sends and files. */
function assertSentOnce(s: Scenario, ...agentsSeen: AgentProcess[]): void {
  const twice = [...s.es.createAttempts].filter(([, n]) => n > 1);
  if (twice.length === 0) return;
  const byId = new Map<string, Doc>();
  for (const d of docs(s)) byId.set(String(d['_id'] ?? ''), d);
  const said = agentsSeen
    .flatMap((a) => a.logs)
    .filter((l) => l['level'] === 'warn' || l['level'] === 'error' || /rotat|truncat|generation|released|found/.test(String(l['msg'])))
    .map((l) => JSON.stringify(l).slice(0, 300));
  assert.fail(`${twice.length} records sent more than once (first: ${twice.slice(0, 5).map(([id, n]) => `${id}×${n}`).join(', ')})\n${said.slice(-40).join('\n')}`);
}

async function stop(agent: AgentProcess): Promise<void> {
  agent.signal('SIGTERM');
  assert.equal(await agent.exited(), 0, 'exit code after SIGTERM');
}

test('Python RotatingFileHandler rotating 20+ times while logship follows django.log: every record once', async () => {
  const s = await djangoScenario();
  const file = join(s.logs, 'django.log');
  const agent = start(s);
  await following(s, file);
  await runPythonWriter([file, '--count', '6000', '--rate', '1500', '--max-bytes', '40000', '--backups', '50', '--pad', '100']);
  const rotated = readdirSync(s.logs).filter((n) => /^django\.log\.\d+$/.test(n)).length;
  assert.ok(rotated >= 20, `the writer rotated at least 20 times (${rotated} rotated files)`);
  await settle(s, 6000 + probes(s), 20_000);
  await stop(agent);
  assertExactlyOnce(s, 6000, [agent.logs], seqHomes(s.logs, 'django.log'));
  assertSentOnce(s, agent);
});

test('RotatingFileHandler with 3 backups: files deleted while being read are read to their end', async () => {
  const s = await djangoScenario();
  const file = join(s.logs, 'django.log');
  const agent = start(s);
  await following(s, file);
  // ~320-byte lines, 40 KB files: a rotation every ~125 lines (8 a second at 1000 lines/s); with 3 backups a
  // rotated file is deleted about half a second after it was rotated away.
  await runPythonWriter([file, '--count', '5000', '--rate', '1000', '--max-bytes', '40000', '--backups', '3', '--pad', '100']);
  const left = readdirSync(s.logs).filter((n) => n.startsWith('django.log'));
  assert.deepEqual(left.sort(), ['django.log', 'django.log.1', 'django.log.2', 'django.log.3'], 'older files were deleted');
  await settle(s, 5000 + probes(s), 20_000);
  await stop(agent);
  assertExactlyOnce(s, 5000, [agent.logs], seqHomes(s.logs, 'django.log'));
  assertSentOnce(s, agent);
});

test('copytruncate (as logrotate does): every record once, the new content from offset 0', async () => {
  const s = await djangoScenario();
  const file = join(s.logs, 'django.log');
  appendSeqLines(file, 0, 2000);
  const agent = start(s);
  await waitFor(() => s.es.count(INDEX) >= 2000, 15_000, '2000 documents');
  const before = statSync(file);
  // logrotate copytruncate: copy the file aside, then truncate it in place (same inode); the writer goes on
  // appending (O_APPEND) at the new end. Fewer bytes than before, so the agent sees the file shrink.
  copyFileSync(file, `${file}.1`);
  truncateSync(file, 0);
  appendSeqLines(file, 2000, 2500);
  assert.equal(statSync(file).ino, before.ino, 'same inode');
  await settle(s, 2500, 15_000);
  appendSeqLines(file, 2500, 3000);
  await settle(s, 3000, 15_000);
  await stop(agent);
  assertExactlyOnce(s, 3000, [agent.logs]);
  const first = docs(s).find((d) => String(d['message']).includes('seq=2000 '))!;
  assert.equal(first['log']['offset'], 0, 'the first record after the truncation is read from offset 0');
  assert.ok(agent.logs.some((l) => l['msg'] === 'file truncated, reading again from its start'), 'the truncation was logged');
  assertSentOnce(s, agent);
});

test('truncated and rewritten with more bytes while the agent was stopped: shipped again from offset 0', async () => {
  const s = await djangoScenario();
  const file = join(s.logs, 'django.log');
  appendSeqLines(file, 0, 1000);
  let agent = start(s);
  await waitFor(() => s.es.count(INDEX) >= 1000, 15_000, '1000 documents');
  await stop(agent);
  const first = agent;
  const oldSize = statSync(file).size;
  const ino = statSync(file).ino;
  truncateSync(file, 0);
  // New content: a different first line, and longer than the old checkpoint offset.
  appendSeqLines(file, 1000, 3000);
  assert.ok(statSync(file).size > oldSize);
  assert.equal(statSync(file).ino, ino, 'same inode');
  agent = start(s);
  await settle(s, 3000, 15_000);
  await stop(agent);
  assertExactlyOnce(s, 3000, [first.logs, agent.logs]);
  const d = docs(s).find((x) => String(x['message']).includes('seq=1000 '))!;
  assert.equal(d['log']['offset'], 0);
  assert.ok(
    agent.logs.some((l) => l['msg'] === 'checkpoint does not match the file any more, reading it from its start'),
    'the fingerprint mismatch was logged',
  );
  assertSentOnce(s, agent);
});

test('a file deleted while the agent is mid-way (held back by a slow sink) is read to its end', async () => {
  const s = await djangoScenario();
  const file = join(s.logs, 'django.log');
  const N = 50_000;
  appendSeqLines(file, 0, N);
  s.es.delayMs = 200;
  const agent = start(s);
  await waitFor(() => s.es.count(INDEX) >= 2000, 15_000, 'the first 2000 documents');
  unlinkSync(file);
  const atUnlink = s.es.count(INDEX);
  assert.ok(atUnlink < N / 2, `deleted mid-way (${atUnlink} of ${N} stored)`);
  await sleep(1500); // several scans and more than rotate_wait see it gone while reading is held back
  s.es.delayMs = 0;
  await settle(s, N, 20_000);
  await stop(agent);
  assertExactlyOnce(s, N, [agent.logs]);
  assertSentOnce(s, agent);
});

test('Docker json-file: 16 KiB partials rejoined per stream, stdout/stderr, container.id, through rotation', async () => {
  const id = 'c0ffee'.padEnd(64, '0123456789abcdef').slice(0, 64);
  assert.match(id, /^[0-9a-f]{64}$/);
  const s = await scenario((logs) => [{ type: 'docker', paths: [join(logs, 'containers/*/*-json.log')] }]);
  open.push(s);
  const dir = join(s.logs, 'containers', id);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${id}-json.log`);

  const BIG = 40 * 1024;
  const PIECE = 16 * 1024;
  const expected = new Map<number, { stream: 'stdout' | 'stderr'; message: string }>();
  /** A 40 KiB message whose every position is distinct, so a piece out of place or missing shows. */
  const bigText = (seq: number): string => {
    let t = `big seq=${seq} `;
    for (let k = 0; t.length < BIG; k++) t += `|${k}`;
    return t.slice(0, BIG);
  };
  /** Docker entries for seqs [from, to), and the byte offsets (within `base`) of the entries starting a line. */
  const entries = (from: number, to: number, base: number): { text: string; offsets: Map<number, number> } => {
    let text = '';
    const offsets = new Map<number, number>();
    const line = (seq: number, stream: 'stdout' | 'stderr'): void => {
      const message = `${stream} line seq=${seq}`;
      expected.set(seq, { stream, message });
      offsets.set(seq, base + Buffer.byteLength(text));
      text += dockerLine(message + '\n', stream);
    };
    for (let seq = from; seq < to; ) {
      if (seq % 50 === 25 && seq + 5 <= to) {
        // A 40 KiB stdout line and a 40 KiB stderr line, each in three pieces, interleaved with each other and with
        // short lines of the other stream: what dockerd writes when both streams are busy. Within one stream the
        // pieces of a line are consecutive (it is one byte stream); only the other stream comes in between.
        const outSeq = seq++;
        const out = bigText(outSeq);
        expected.set(outSeq, { stream: 'stdout', message: out });
        offsets.set(outSeq, base + Buffer.byteLength(text));
        text += dockerLine(out.slice(0, PIECE), 'stdout');
        line(seq++, 'stderr');
        text += dockerLine(out.slice(PIECE, 2 * PIECE), 'stdout');
        line(seq++, 'stderr');
        const errSeq = seq++;
        const err = bigText(errSeq);
        expected.set(errSeq, { stream: 'stderr', message: err });
        offsets.set(errSeq, base + Buffer.byteLength(text));
        text += dockerLine(err.slice(0, PIECE), 'stderr');
        text += dockerLine(out.slice(2 * PIECE) + '\n', 'stdout');
        text += dockerLine(err.slice(PIECE, 2 * PIECE), 'stderr');
        line(seq++, 'stdout');
        text += dockerLine(err.slice(2 * PIECE) + '\n', 'stderr');
        continue;
      }
      line(seq, seq % 7 === 3 ? 'stderr' : 'stdout');
      seq++;
    }
    return { text, offsets };
  };

  // Phase 1: the container writes; the agent follows.
  const p1 = entries(0, 300, 0);
  writeFileSync(file, p1.text);
  const agent = start(s);
  await waitFor(() => s.es.count(INDEX) >= 300, 15_000, '300 documents');
  // Phase 2: more lines, then dockerd rotates (max-size): rename to -json.log.1, create a new -json.log.
  const p2 = entries(300, 600, Buffer.byteLength(p1.text));
  appendFileSync(file, p2.text);
  renameSync(file, `${file}.1`);
  const p3 = entries(600, 900, 0);
  writeFileSync(file, p3.text);
  await settle(s, 900, 15_000);
  await stop(agent);
  assertExactlyOnce(s, 900, [agent.logs]);

  const offsets = new Map([...p1.offsets, ...p2.offsets]);
  const all = docs(s);
  let bigSeen = 0;
  for (const d of all) {
    const seq = seqsOf([String(d['message'])])[0]!;
    const want = expected.get(seq)!;
    assert.equal(d['stream'], want.stream, `stream of seq=${seq}`);
    assert.deepEqual(d['container'], { id }, `container.id of seq=${seq}`);
    assert.equal(d['tags'], undefined, `seq=${seq} has no tags`);
    if (want.message.length === BIG) {
      bigSeen++;
      assert.equal(String(d['message']).length, BIG, `seq=${seq}: the 40 KiB line rejoined at its full length`);
    }
    assert.ok(d['message'] === want.message, `seq=${seq}: message intact`);
    const offset = seq < 600 ? offsets.get(seq) : p3.offsets.get(seq);
    assert.equal(d['log']['offset'], offset, `log.offset of seq=${seq}`);
    assert.match(String(d['@timestamp']), /^2026-11-27T12:00:00\.000/);
  }
  assert.equal(bigSeen, 2 * 18, 'every 40 KiB line was stored');
  assertSentOnce(s, agent);
});

test('start_at: end skips what the file holds; new lines ship; a restart re-sends nothing and loses nothing', async () => {
  const s = await djangoScenario({ start_at: 'end' });
  const file = join(s.logs, 'django.log');
  // Existing content, numbered apart from the seqs counted: none of it may be shipped.
  appendSeqLines(file, 1_000_000, 1_000_500);
  let agent = start(s);
  // Once a probe appended after the start is stored, the agent is past the existing content, following the end.
  await following(s, file);
  const messages = (): string[] => s.stored().filter((m) => !m.startsWith(PROBE));
  assert.deepEqual(messages(), [], 'nothing of the existing content was shipped');
  appendSeqLines(file, 0, 500);
  await waitFor(() => messages().length >= 500, 15_000, '500 documents');
  await stop(agent);
  const first = agent;
  // While stopped: more lines. start_at only concerns files seen for the first time: these must be shipped.
  appendSeqLines(file, 500, 700);
  agent = start(s);
  await waitFor(() => messages().length >= 700, 15_000, '700 documents');
  appendSeqLines(file, 700, 1000);
  await settle(s, 1000 + probes(s), 15_000);
  await stop(agent);
  assert.ok(seqsOf(messages()).every((q) => q < 1_000_000), 'nothing of the existing content was shipped');
  assertExactlyOnce(s, 1000, [first.logs, agent.logs]);
  assertSentOnce(s, agent);
});
