/**
 * The log sets the image test mounts into the container, made as the real writers make them, and the count of
 * what arrived: every record carries "seq=N", unique per file, so records in and records out are compared file by
 * file (none lost, none twice).
 */
import { appendFileSync, chmodSync, chownSync, mkdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { runPythonWriter, seqsOf, checkExactlyOnce } from '../support/agent.js';
import { dockerLine } from '../support/scenario.js';
import { criLines, rfc3339Nano } from '../support/kubelet.js';
import type { EsServerHandle } from '../support/es-server.js';

/** A container id as Docker makes them: 64 hex digits. */
export const CONTAINER_ID = 'f3b1c2d4e5a6978812345678901234567890abcdefabcdefabcdef0123456789';

/** One log file of a set: where it is on the host, where the container sees it, and how many records it holds. */
export interface SampleFile {
  readonly hostPath: string;
  readonly containerPath: string;
  records: number;
}

/** The Django app's own user, when its logs are written by a uid other than the container's. */
export const APP_UID = 1000;

/**
 * Django's log directory: django.log in JSON lines (python-json-logger) and app.log in Django's verbose text
 * format, both written by Python's RotatingFileHandler (test/support/django_writer.py), a traceback every 20th.
 * `private`: the directory and files belong to the app's user (APP_UID) and others may not read them (0750 and
 * 0640, an app with umask 027), so that only a reader with CAP_DAC_READ_SEARCH (or that uid) gets at them.
 */
export async function djangoLogs(dir: string, containerDir: string, count: number, o: { private?: boolean } = {}): Promise<SampleFile[]> {
  mkdirSync(dir, { recursive: true });
  const files: SampleFile[] = [
    { hostPath: join(dir, 'django.log'), containerPath: `${containerDir}/django.log`, records: 0 },
    { hostPath: join(dir, 'app.log'), containerPath: `${containerDir}/app.log`, records: 0 },
  ];
  await appendDjango(files, count);
  if (o.private) {
    for (const path of [dir, ...files.map((f) => f.hostPath)]) chownSync(path, APP_UID, APP_UID);
    chmodSync(dir, 0o750);
    for (const f of files) chmodSync(f.hostPath, 0o640);
  }
  return files;
}

/** Append `count` more records to each Django file (seq continues). */
export async function appendDjango(files: SampleFile[], count: number): Promise<void> {
  for (const [i, f] of files.entries()) {
    const format = i === 0 ? 'json' : 'text';
    await runPythonWriter([f.hostPath, '--count', String(count), '--start', String(f.records), '--format', format, '--traceback-every', '20']);
    f.records += count;
  }
}

/**
 * Docker's containers directory with one container's json-file log, laid out and protected as dockerd does it
 * (`<id>/<id>-json.log`, the directory 0701 and the file 0640, both root's): stdout and stderr lines, and every
 * 50th line longer than 16 KiB, which Docker splits into pieces of 16 KiB (no newline but in the last).
 */
export function dockerLogs(dir: string, containerDir: string, count: number): SampleFile {
  const containerLogDir = join(dir, CONTAINER_ID);
  mkdirSync(containerLogDir, { recursive: true });
  chmodSync(dir, 0o701);
  chmodSync(containerLogDir, 0o701);
  const file: SampleFile = {
    hostPath: join(containerLogDir, `${CONTAINER_ID}-json.log`),
    containerPath: `${containerDir}/${CONTAINER_ID}/${CONTAINER_ID}-json.log`,
    records: 0,
  };
  appendDocker(file, count);
  chmodSync(file.hostPath, 0o640);
  return file;
}

const PIECE = 16 * 1024;

export function appendDocker(file: SampleFile, count: number): void {
  let body = '';
  for (let seq = file.records; seq < file.records + count; seq++) {
    const stream = seq % 3 === 2 ? 'stderr' : 'stdout';
    const time = new Date(Date.UTC(2026, 11, 5, 10, 0, 0) + seq).toISOString().replace('Z', '123456Z');
    const line = `GET /api/items/${seq} HTTP/1.1 200 seq=${seq}${seq % 50 === 49 ? ' ' + 'x'.repeat(40_000) : ''}\n`;
    for (let at = 0; at < line.length; at += PIECE) body += dockerLine(line.slice(at, at + PIECE), stream, time);
  }
  appendFileSync(file.hostPath, body);
  file.records += count;
}

/**
 * A pod's container log as containerd writes it under kubelet's /var/log/pods (`<namespace>_<pod>_<uid>/<container>/
 * 0.log`, 0640 root's), and kubelet's link to it in /var/log/containers, which points where the node — and the
 * DaemonSet's pod, which mounts both at the same paths — sees the file. stdout and stderr lines, every 50th longer
 * than 16 KiB (containerd's P pieces and an F piece).
 */
export function podLogs(podsDir: string, linksDir: string, count: number): SampleFile {
  const pod = { namespace: 'shop', name: 'web-7d9f8c6b5-x2x9q', uid: '0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b', container: 'django' };
  const relative = `${pod.namespace}_${pod.name}_${pod.uid}/${pod.container}/0.log`;
  const file: SampleFile = { hostPath: join(podsDir, relative), containerPath: `/var/log/pods/${relative}`, records: 0 };
  mkdirSync(dirname(file.hostPath), { recursive: true });
  mkdirSync(linksDir, { recursive: true });
  symlinkSync(file.containerPath, join(linksDir, `${pod.name}_${pod.namespace}_${pod.container}-${CONTAINER_ID}.log`));
  const t0 = BigInt(Date.UTC(2026, 11, 5, 10, 0, 0)) * 1_000_000n;
  const lines: Buffer[] = [];
  for (let seq = 0; seq < count; seq++) {
    const content = `GET /api/items/${seq} HTTP/1.1 200 seq=${seq}${seq % 50 === 49 ? ' ' + 'x'.repeat(40_000) : ''}`;
    lines.push(criLines(seq % 3 === 2 ? 'stderr' : 'stdout', content, rfc3339Nano(t0 + BigInt(seq) * 1_000_000n)));
  }
  writeFileSync(file.hostPath, Buffer.concat(lines), { mode: 0o640 });
  file.records = count;
  return file;
}

/** Stored documents of the index, by the file they came from (log.file.path). */
export function storedByFile(es: EsServerHandle, index: string): Map<string, Record<string, any>[]> {
  const out = new Map<string, Record<string, any>[]>();
  for (const doc of es.docs.get(index)?.values() ?? []) {
    const path = String((doc as { log?: { file?: { path?: string } } }).log?.file?.path);
    (out.get(path) ?? out.set(path, []).get(path)!).push(doc);
  }
  return out;
}

/** Records written (all files) and unique records stored. */
export function counts(es: EsServerHandle, index: string, files: readonly SampleFile[]): { written: number; stored: number } {
  return { written: files.reduce((n, f) => n + f.records, 0), stored: es.count(index) };
}

/** What is wrong with the stored records, file by file (lost, twice, from an unknown file), or null. */
export function exactlyOnce(es: EsServerHandle, index: string, files: readonly SampleFile[]): string | null {
  const byFile = storedByFile(es, index);
  const problems: string[] = [];
  for (const f of files) {
    const docs = byFile.get(f.containerPath) ?? [];
    byFile.delete(f.containerPath);
    const problem = checkExactlyOnce(seqsOf(docs.map((d) => String(d['message']))), f.records);
    if (problem) problems.push(`${f.containerPath}: ${problem}`);
  }
  for (const [path, docs] of byFile) problems.push(`${docs.length} records from a file the test did not write: ${path}`);
  return problems.length === 0 ? null : problems.join('; ');
}

/** Every `create` the server was sent, across all ids: a re-sent record counts again even if it was a duplicate. */
export function sends(es: EsServerHandle): number {
  let n = 0;
  for (const c of es.createAttempts.values()) n += c;
  return n;
}

/** A file's size on the host, which its checkpoint must reach once every record is acknowledged. */
export function sizeOf(file: SampleFile): number {
  return statSync(file.hostPath).size;
}
