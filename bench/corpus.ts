/**
 * Benchmark corpora, written fast and deterministically:
 * - django-json: python-json-logger lines (~380 B), as Django writes them in production;
 * - docker: Docker json-file lines (~300 B, an nginx access line inside) exactly as dockerd writes them;
 * - django-text: Django's verbose text format with a real-shaped Python traceback on every 20th record.
 * A bench corpus is one of these files, or `mixed`: Django JSON and Docker files shipped in one run, as a host has them.
 * Every record carries "seq=N" so the receiver's count can be checked against what was written.
 */
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export type CorpusKind = 'django-json' | 'docker' | 'django-text';

/** What one bench run ships: a corpus file of one kind, or (mixed) Django JSON and Docker files side by side. */
export type CorpusName = CorpusKind | 'mixed';
export const CORPORA: readonly CorpusName[] = ['django-json', 'docker', 'mixed', 'django-text'];
export const CORPUS_FILES: Readonly<Record<CorpusName, readonly CorpusKind[]>> = {
  'django-json': ['django-json'],
  docker: ['docker'],
  mixed: ['django-json', 'docker'],
  'django-text': ['django-text'],
};
export const CORPUS_TITLES: Readonly<Record<CorpusName, string>> = {
  'django-json': 'Django JSON',
  docker: 'Docker',
  mixed: 'mixed',
  'django-text': 'Django text',
};

/** A corpus file as shippers are pointed at it. */
export interface CorpusFile {
  kind: CorpusKind;
  path: string;
}

/** One record in TRACEBACK_EVERY carries a traceback (the first, seq=0, included). */
export const TRACEBACK_EVERY = 20;

const TRACEBACK = [
  'Traceback (most recent call last):',
  '  File "/app/backend/api/views.py", line 88, in retrieve',
  '    profile = Profile.objects.get(user_id=request.user.id)',
  '              ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^',
  '  File "/usr/local/lib/python3.12/site-packages/django/db/models/manager.py", line 87, in manager_method',
  '    return getattr(self.get_queryset(), name)(*args, **kwargs)',
  'api.models.Profile.DoesNotExist: Profile matching query does not exist.',
].join('\n');

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

function asctime(i: number): string {
  const s = i % 86400;
  return `2026-11-27 ${pad2(Math.floor(s / 3600))}:${pad2(Math.floor(s / 60) % 60)}:${pad2(s % 60)},${String(i % 1000).padStart(3, '0')}`;
}

function djangoJson(i: number): string {
  return (
    JSON.stringify({
      asctime: asctime(i),
      levelname: i % 50 === 0 ? 'WARNING' : 'INFO',
      name: 'django.request',
      module: 'log',
      funcName: 'log_response',
      lineno: 241,
      process: 4242,
      thread: 140245123456,
      message: `"GET /api/accreditations/${i}/?page=2&ordering=-created HTTP/1.1" 200 1834 seq=${i}`,
      status_code: 200,
      request_id: `6f1c2a9e-${String(i).padStart(8, '0')}-4c1b-9d7e-52a8f0c3b1d4`,
      user_id: i % 977,
      duration_ms: (i % 300) + 0.25,
    }) + '\n'
  );
}

function docker(i: number): string {
  const ns = String(i % 1_000_000_000).padStart(9, '0');
  const log = `10.0.${i % 255}.${i % 200} - - [27/Nov/2026:12:00:00 +0000] "GET /static/js/main.${(i % 97).toString(16).padStart(8, '0')}.chunk.js HTTP/1.1" 200 5120 "-" "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36" seq=${i}\n`;
  return JSON.stringify({ log, stream: i % 10 === 0 ? 'stderr' : 'stdout', time: `2026-11-27T12:00:00.${ns}Z` }) + '\n';
}

function djangoText(i: number): string {
  const withTraceback = i % TRACEBACK_EVERY === 0;
  const head = `${withTraceback ? 'ERROR' : 'INFO'} ${asctime(i)} views 4242 140245123456 GET /api/accreditations/${i}/ seq=${i}\n`;
  return withTraceback ? head + TRACEBACK + '\n' : head;
}

const LINE: Record<CorpusKind, (i: number) => string> = { 'django-json': djangoJson, docker, 'django-text': djangoText };

/** Write `records` records of a kind to `path`; returns the bytes written. */
export async function writeCorpus(kind: CorpusKind, path: string, records: number, start = 0): Promise<number> {
  mkdirSync(dirname(path), { recursive: true });
  const out = createWriteStream(path, { flags: 'a', highWaterMark: 1 << 20 });
  let bytes = 0;
  let chunk = '';
  for (let i = start; i < start + records; i++) {
    chunk += LINE[kind](i);
    if (chunk.length > 1 << 20) {
      bytes += Buffer.byteLength(chunk);
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
      chunk = '';
    }
  }
  bytes += Buffer.byteLength(chunk);
  out.write(chunk);
  await new Promise<void>((res, rej) => out.end((err?: Error | null) => (err ? rej(err) : res())));
  return bytes;
}

/** How many of `records` records (seq 0 up) carry a traceback. */
export function tracebackRecords(records: number): number {
  return Math.ceil(records / TRACEBACK_EVERY);
}

export function recordLine(kind: CorpusKind, i: number): string {
  return LINE[kind](i);
}
