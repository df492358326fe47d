/**
 * The sinks a scenario ships to, each a local server speaking the real protocol (or the file sink's own output), and
 * what each one saw: records stored (by the "seq=N" in their message) and sends of records already stored.
 *
 * Repeats are counted where the sends arrive, not from stored documents alone: Elasticsearch answers a `create` of
 * a stored _id 409 (createConflicts), Cloud Logging stores an insertId once but counts every arrival (received);
 * CloudWatch Logs and the file keep every copy, so there the copies are the repeats.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCloudLoggingServer, type CloudLoggingServerHandle } from '../support/cloud-logging-server.js';
import { startCloudWatchServer, TEST_AWS_ENV, TEST_REGION, type CloudWatchServerHandle } from '../support/cloudwatch-server.js';
import { startEsServer, type EsServerHandle } from '../support/es-server.js';
import type { FaultRun } from './harness.js';

export const INDEX = 'logs-django-default';
const CW_GROUP = '/accreditrack/django';
const CL_PROJECT = 'test-project';

/** What a sink holds and saw, in records. */
export interface Observation {
  /** seq → documents stored carrying it. */
  readonly stored: Map<number, number>;
  /** seq → the first stored document's message, for scenarios that check content. */
  readonly messages: Map<number, string>;
  /** Per stream ('' where the sink has none): sends of records that were already stored. */
  readonly repeats: Map<string, number>;
  /** Stored messages with no seq that are not probes: pieces of a record shipped as records of their own. */
  readonly strays: string[];
}

export interface SinkUnderTest {
  readonly kind: 'elasticsearch' | 'cloudwatch' | 'cloud_logging' | 'file';
  /** The sink stores a record once whatever is sent (by _id / insertId). */
  readonly dedupes: boolean;
  /** The `sink:` block of the config. */
  readonly config: Record<string, unknown>;
  /** Documents stored so far (cheap: for waiting on progress). */
  count(): number;
  observe(): Observation;
}

/** Messages of probe lines start with this; they carry no seq and are left out of the counts. */
export const PROBE = 'warm-up';

const SEQ_RE = /seq=(\d+)/;

class Tally {
  readonly stored = new Map<number, number>();
  readonly messages = new Map<number, string>();
  readonly repeats = new Map<string, number>();
  readonly strays: string[] = [];

  /** Counts one stored document; its seq, or null. */
  add(message: unknown): number | null {
    const text = typeof message === 'string' ? message : JSON.stringify(message);
    const m = SEQ_RE.exec(text);
    if (m === null) {
      if (!text.startsWith(PROBE)) this.strays.push(text);
      return null;
    }
    const seq = Number(m[1]);
    this.stored.set(seq, (this.stored.get(seq) ?? 0) + 1);
    if (!this.messages.has(seq)) this.messages.set(seq, text);
    return seq;
  }

  repeat(stream: string, n: number): void {
    if (n > 0) this.repeats.set(stream, (this.repeats.get(stream) ?? 0) + n);
  }
}

export interface EsSink extends SinkUnderTest {
  readonly es: EsServerHandle;
}

export async function elasticsearch(run: FaultRun): Promise<EsSink> {
  const es = await startEsServer();
  run.onClose(() => es.close());
  return {
    kind: 'elasticsearch',
    dedupes: true,
    es,
    config: { type: 'elasticsearch', node: es.url, index: INDEX },
    count: () => es.count(INDEX),
    observe() {
      const t = new Tally();
      for (const [id, doc] of es.docs.get(INDEX) ?? []) {
        const seq = t.add(doc['message']);
        if (seq !== null) t.repeat('', es.createConflicts.get(id) ?? 0);
      }
      return t;
    },
  };
}

export async function cloudwatch(run: FaultRun): Promise<SinkUnderTest> {
  Object.assign(process.env, TEST_AWS_ENV); // the agent inherits it: the SDK's default chain finds these and nothing else
  const cw = await startCloudWatchServer();
  run.onClose(() => cw.close());
  return {
    kind: 'cloudwatch',
    dedupes: false,
    config: { type: 'cloudwatch', region: TEST_REGION, log_group: CW_GROUP, log_stream: '{host}/{file}', endpoint: cw.url },
    count: () => storedEvents(cw),
    observe() {
      const t = new Tally();
      for (const [stream, events] of cw.groups.get(CW_GROUP)?.streams ?? []) {
        const seen = new Set<number>();
        for (const e of events) {
          const seq = t.add((JSON.parse(e.message) as { message?: unknown }).message);
          if (seq === null) continue;
          if (seen.has(seq)) t.repeat(stream, 1);
          seen.add(seq);
        }
      }
      return t;
    },
  };
}

function storedEvents(cw: CloudWatchServerHandle): number {
  let n = 0;
  for (const events of cw.groups.get(CW_GROUP)?.streams.values() ?? []) n += events.length;
  return n;
}

export async function cloudLogging(run: FaultRun): Promise<SinkUnderTest> {
  const cl: CloudLoggingServerHandle = await startCloudLoggingServer();
  run.onClose(() => cl.close());
  return {
    kind: 'cloud_logging',
    dedupes: true,
    config: {
      type: 'cloud_logging',
      project_id: CL_PROJECT,
      log_name: '{input}',
      resource: { type: 'generic_node', labels: { location: 'europe-west1', namespace: 'faults', node_id: '{host}' } },
      api_endpoint: cl.address,
      insecure: true,
    },
    count: () => cl.count(),
    observe() {
      const t = new Tally();
      for (const e of cl.entries.values()) {
        const seq = t.add(e.jsonPayload?.['message'] ?? e.textPayload);
        if (seq !== null) t.repeat('', (cl.received.get(e.insertId) ?? 1) - 1);
      }
      return t;
    },
  };
}

export function fileSink(run: FaultRun): SinkUnderTest {
  const path = join(run.dir, 'out', 'logship.ndjson');
  const maxFiles = 5;
  const files = (): string[] => [path, ...Array.from({ length: maxFiles }, (_, i) => `${path}.${i + 1}`)].filter((p) => existsSync(p));
  const lines = (): string[] => files().flatMap((p) => readFileSync(p, 'utf8').split('\n').filter((l) => l !== ''));
  return {
    kind: 'file',
    dedupes: false,
    config: { type: 'file', path, max_bytes: 1024 * 1024 * 1024, max_files: maxFiles },
    count: () => files().reduce((n, p) => n + countNewlines(readFileSync(p)), 0),
    observe() {
      const t = new Tally();
      for (const line of lines()) {
        const seq = t.add((JSON.parse(line) as { message?: unknown }).message);
        if (seq !== null && t.stored.get(seq)! > 1) t.repeat('', 1);
      }
      return t;
    },
  };
}

function countNewlines(buf: Buffer): number {
  let n = 0;
  for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) n++;
  return n;
}

/** The records in data_dir/dead_letters.ndjson (their seqs), and lines that are not JSON (a write cut short). */
export function readDeadLetters(run: FaultRun): { seqs: Set<number>; torn: number } {
  const seqs = new Set<number>();
  let torn = 0;
  const path = join(run.data, 'dead_letters.ndjson');
  if (!existsSync(path)) return { seqs, torn };
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line === '') continue;
    let entry: { document?: { message?: unknown } };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      torn++;
      continue;
    }
    const m = SEQ_RE.exec(String(entry.document?.message));
    if (m) seqs.add(Number(m[1]));
  }
  return { seqs, torn };
}

/** seqs of the records in data_dir/dead_letters.ndjson. */
export function deadLettered(run: FaultRun): Set<number> {
  return readDeadLetters(run).seqs;
}

export const SINKS = { elasticsearch, cloudwatch, cloud_logging: cloudLogging, file: (run: FaultRun) => Promise.resolve(fileSink(run)) };
