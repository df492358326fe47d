/**
 * A small Cloud Logging for tests: a gRPC server on 127.0.0.1 implementing
 * google.logging.v2.LoggingServiceV2/WriteLogEntries from the .proto files shipped with the client
 * (@google-cloud/logging-api's protos, google-gax's common protos), so that the real @google-cloud/logging client
 * talks to it unmodified over plaintext gRPC. It keeps entries in memory and lets a test inject faults at any time.
 *
 * What it imitates, from the API reference (https://cloud.google.com/logging/docs/reference/v2/rpc/google.logging.v2)
 * and the limits page (https://cloud.google.com/logging/quotas):
 * - `log_name` is `projects/PROJECT_ID/logs/LOG_ID`, LOG_ID URL-encoded (a raw "/" in it is refused), under 512
 *   characters, of letters, digits, "/", "_", "-" and ".";
 * - a LogEntry is at most 256 KiB (measured here as its encoded protobuf size), a request at most 10 MB;
 * - timestamps more than a day in the future are refused, and at most 64 labels per entry;
 * - `partial_success`: valid entries are written, the call fails with the status of one failed entry and a
 *   `WriteLogEntriesPartialErrors` detail (in `grpc-status-details-bin`) keyed by entry index; a call that writes
 *   nothing carries no per-entry errors; without `partial_success` one bad entry fails the whole request;
 * - `dry_run`: validated, answered normally, nothing stored;
 * - entries with the same project, timestamp and `insert_id` are duplicates: stored once.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Socket } from 'node:net';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';

/** https://cloud.google.com/logging/quotas: "Size of a LogEntry 256 KiB". */
export const MAX_ENTRY_BYTES = 256 * 1024;
/** https://cloud.google.com/logging/quotas: "Size of an entries.write request 10 MB" (Google's front end counts 10 MiB). */
export const MAX_REQUEST_BYTES = 10 * 1024 * 1024;
export const MAX_LABELS = 64;
const MAX_FUTURE_MS = 24 * 3600_000;
const PARTIAL_ERRORS_TYPE = 'type.googleapis.com/google.logging.v2.WriteLogEntriesPartialErrors';

const { status: Code } = grpc;
export type FaultCode =
  | 'UNAVAILABLE'
  | 'RESOURCE_EXHAUSTED'
  | 'DEADLINE_EXCEEDED'
  | 'INTERNAL'
  | 'PERMISSION_DENIED'
  | 'NOT_FOUND'
  | 'UNAUTHENTICATED'
  | 'INVALID_ARGUMENT';

/** Messages in the shape the service gives them. */
const FAULT_MESSAGES: Record<FaultCode, string> = {
  UNAVAILABLE: 'The service is currently unavailable.',
  RESOURCE_EXHAUSTED:
    "Quota exceeded for quota metric 'Write requests' and limit 'Write requests per minute per project' of service 'logging.googleapis.com'.",
  DEADLINE_EXCEEDED: 'Deadline exceeded.',
  INTERNAL: 'Internal error encountered.',
  PERMISSION_DENIED: "Permission 'logging.logEntries.create' denied on resource (or it may not exist).",
  NOT_FOUND: 'Requested entity was not found.',
  UNAUTHENTICATED:
    'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
  INVALID_ARGUMENT: 'Request contains an invalid argument.',
};

export interface StoredEntry {
  readonly logName: string;
  readonly resource: { type: string; labels: Record<string, string> } | undefined;
  readonly labels: Record<string, string>;
  /** RFC 3339 with nanoseconds, as the service returns it. */
  readonly timestamp: string;
  readonly severity: string;
  readonly insertId: string;
  readonly jsonPayload: Record<string, unknown> | undefined;
  readonly textPayload: string | undefined;
  /** Encoded size of the LogEntry as it arrived. */
  readonly size: number;
}

/** One WriteLogEntries call as the server saw it. */
export interface SeenWrite {
  readonly entries: number;
  /** Encoded request size. */
  readonly bytes: number;
  readonly partialSuccess: boolean;
  readonly dryRun: boolean;
  /** gRPC status code of the answer (0 = OK). */
  readonly code: number;
  /** Entries stored by this call (duplicates not counted). */
  readonly stored: number;
  /** Request metadata (headers), e.g. to check that no credentials were sent. */
  readonly metadata: Record<string, unknown>;
}

export interface CloudLoggingServerOptions {
  /** 0 (default) picks a free port. */
  port?: number;
}

export interface CloudLoggingServerHandle {
  /** host:port for `api_endpoint`. */
  readonly address: string;
  readonly port: number;
  /** Stored entries by (project, timestamp, insert_id), the service's duplicate key. */
  readonly entries: Map<string, StoredEntry>;
  /** How many times each insert_id arrived in a WriteLogEntries call that was not failed by an injected fault. */
  readonly received: Map<string, number>;
  readonly writes: SeenWrite[];
  readonly stats: { calls: number; dryRuns: number; entries: number; duplicates: number };
  /** Number of stored entries. */
  count(): number;
  /** The stored entry with this insert_id (the first, if several timestamps share it). */
  byInsertId(insertId: string): StoredEntry | undefined;
  /** jsonPayload.message of every stored entry. */
  messages(): string[];
  /** Answer `n` calls with `code` (then serve normally), after serving `after` calls normally. */
  failNext(n: number, code: FaultCode, opts?: { message?: string; after?: number }): void;
  /** Answer every call with `code`; null restores normal service. */
  failAll(code: FaultCode | null, opts?: { message?: string }): void;
  /** Bursts: of every `good + bad` calls from now, the first `good` are served and the next `bad` answered `code`; null stops. */
  bursts(pattern: { good: number; bad: number; code: FaultCode } | null): void;
  /** Entries for which `predicate` holds are refused one by one with INVALID_ARGUMENT; null turns it off. */
  rejectEntriesWhen(predicate: ((entry: StoredEntry) => boolean) | null, message?: string): void;
  /** Milliseconds to wait before answering any call. */
  delayMs: number;
  /** Stop serving and cut open connections: clients get UNAVAILABLE. */
  stop(): Promise<void>;
  /** Serve again on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

const require = createRequire(import.meta.url);
/** The .proto files the client package ships, and the common protos (google/api, google/rpc) of its google-gax. */
const LOGGING_API_DIR = dirname(require.resolve('@google-cloud/logging-api/package.json'));
const GAX_DIR = packageDir(createRequire(join(LOGGING_API_DIR, 'package.json')).resolve('google-gax'));
export const PROTO_DIRS = [join(LOGGING_API_DIR, 'build', 'protos'), join(GAX_DIR, 'build', 'protos')];
const LOGGING_PROTO = 'google/logging/v2/logging.proto';

/** The directory of the package a resolved file belongs to (google-gax's "exports" hide its package.json). */
function packageDir(file: string): string {
  let dir = dirname(file);
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

interface Protos {
  readonly service: grpc.ServiceDefinition;
  readonly request: protobuf.Type;
  readonly entry: protobuf.Type;
  readonly status: protobuf.Type;
  readonly partialErrors: protobuf.Type;
}

let protos: Protos | undefined;

function loadProtos(): Protos {
  if (protos) return protos;
  const definition = protoLoader.loadSync(LOGGING_PROTO, { includeDirs: PROTO_DIRS, keepCase: false, longs: String, enums: String, oneofs: true });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as {
    google: { logging: { v2: { LoggingServiceV2: { service: grpc.ServiceDefinition } } } };
  };
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => {
    for (const dir of PROTO_DIRS) {
      const candidate = join(dir, target);
      if (existsSync(candidate)) return candidate;
    }
    return target; // google/protobuf/*.proto: protobufjs has them built in
  };
  root.loadSync([LOGGING_PROTO, 'google/rpc/status.proto'], { keepCase: false });
  protos = {
    service: pkg.google.logging.v2.LoggingServiceV2.service,
    request: root.lookupType('google.logging.v2.WriteLogEntriesRequest'),
    entry: root.lookupType('google.logging.v2.LogEntry'),
    status: root.lookupType('google.rpc.Status'),
    partialErrors: root.lookupType('google.logging.v2.WriteLogEntriesPartialErrors'),
  };
  return protos;
}

/** The call as the handler receives it: the raw bytes as well as the decoded message. */
interface RawWrite {
  readonly bytes: number;
  readonly message: protobuf.Message & Record<string, unknown>;
}

interface EntryError {
  readonly code: number;
  readonly message: string;
}

export async function startCloudLoggingServer(opts: CloudLoggingServerOptions = {}): Promise<CloudLoggingServerHandle> {
  const p = loadProtos();
  const entries = new Map<string, StoredEntry>();
  const received = new Map<string, number>();
  const writes: SeenWrite[] = [];
  const stats = { calls: 0, dryRuns: 0, entries: 0, duplicates: 0 };
  let fault: { code: FaultCode; message?: string; remaining: number; skip: number } | null = null;
  let burst: { good: number; bad: number; code: FaultCode; calls: number } | null = null;
  let rejecter: { predicate: (entry: StoredEntry) => boolean; message: string } | null = null;
  let generatedIds = 0;
  let server: grpc.Server | null = null;
  let port = opts.port ?? 0;

  // Requests are decoded with protobufjs from the raw bytes, so that sizes are those of the wire.
  const method = p.service['WriteLogEntries']!;
  const service: grpc.ServiceDefinition = {
    WriteLogEntries: {
      ...method,
      requestDeserialize: (buf: Buffer): RawWrite => ({
        bytes: buf.length,
        message: p.request.decode(buf) as protobuf.Message & Record<string, unknown>,
      }),
    },
  };

  const handle: CloudLoggingServerHandle = {
    get address() {
      return `127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    entries,
    received,
    writes,
    stats,
    count: () => entries.size,
    byInsertId: (id) => [...entries.values()].find((e) => e.insertId === id),
    messages: () => [...entries.values()].map((e) => String(e.jsonPayload?.['message'] ?? e.textPayload ?? '')),
    failNext(n, code, o = {}) {
      fault = n > 0 ? { code, message: o.message, remaining: n, skip: o.after ?? 0 } : null;
    },
    failAll(code, o = {}) {
      fault = code === null ? null : { code, message: o.message, remaining: Infinity, skip: 0 };
    },
    bursts(pattern) {
      burst = pattern === null ? null : { ...pattern, calls: 0 };
    },
    rejectEntriesWhen(predicate, message = 'Log entry refused by the test server') {
      rejecter = predicate === null ? null : { predicate, message };
    },
    delayMs: 0,
    stop,
    start,
    close: stop,
  };

  function write(call: grpc.ServerUnaryCall<RawWrite, unknown>, callback: grpc.sendUnaryData<unknown>): void {
    const answer = (): void => {
      const seen = { metadata: call.metadata.getMap(), bytes: call.request.bytes };
      const result = handleWrite(call.request);
      writes.push({ ...seen, ...result.seen });
      if (result.error) callback(result.error, null);
      else callback(null, {});
    };
    if (handle.delayMs > 0) setTimeout(answer, handle.delayMs);
    else answer();
  }

  function handleWrite(raw: RawWrite): {
    seen: Omit<SeenWrite, 'metadata' | 'bytes'>;
    error?: Partial<grpc.StatusObject>;
  } {
    stats.calls++;
    const req = raw.message;
    const list = (req['entries'] as (protobuf.Message & Record<string, unknown>)[] | undefined) ?? [];
    const partialSuccess = req['partialSuccess'] === true;
    const dryRun = req['dryRun'] === true;
    if (dryRun) stats.dryRuns++;
    const seen = (code: number, stored = 0) => ({ entries: list.length, partialSuccess, dryRun, code, stored });

    if (fault !== null && fault.skip > 0) fault.skip--;
    else if (fault !== null) {
      const { code, message } = fault;
      if (--fault.remaining <= 0) fault = null;
      return { seen: seen(Code[code]), error: { code: Code[code], details: message ?? FAULT_MESSAGES[code] } };
    }
    if (burst !== null && burst.calls++ % (burst.good + burst.bad) >= burst.good) {
      return { seen: seen(Code[burst.code]), error: { code: Code[burst.code], details: FAULT_MESSAGES[burst.code] } };
    }
    if (raw.bytes > MAX_REQUEST_BYTES) {
      const details = `Request payload size exceeds the limit: ${MAX_REQUEST_BYTES} bytes.`;
      return { seen: seen(Code.INVALID_ARGUMENT), error: { code: Code.INVALID_ARGUMENT, details } };
    }
    if (list.length === 0) {
      return { seen: seen(Code.INVALID_ARGUMENT), error: { code: Code.INVALID_ARGUMENT, details: 'entries: at least one entry is required' } };
    }

    const defaults = p.request.toObject(req, { longs: String, enums: String, defaults: false, oneofs: true });
    const accepted: StoredEntry[] = [];
    const errors = new Map<number, EntryError>();
    list.forEach((message, i) => {
      const entry = toStored(message, defaults);
      if (!dryRun && entry.insertId !== '') received.set(entry.insertId, (received.get(entry.insertId) ?? 0) + 1);
      const problem = validate(entry);
      if (problem !== null) errors.set(i, problem);
      else if (rejecter?.predicate(entry)) errors.set(i, { code: Code.INVALID_ARGUMENT, message: rejecter.message });
      else accepted.push(entry);
    });

    if (errors.size > 0 && (!partialSuccess || accepted.length === 0)) {
      // Nothing is written: the status of one failed entry, and no per-entry errors.
      const first = errors.values().next().value!;
      return { seen: seen(first.code), error: { code: first.code, details: first.message } };
    }
    let stored = 0;
    if (!dryRun) for (const entry of accepted) stored += store(entry) ? 1 : 0;
    if (errors.size === 0) return { seen: seen(Code.OK, stored) };

    const first = errors.values().next().value!;
    const logEntryErrors: Record<number, { code: number; message: string }> = {};
    for (const [i, e] of errors) logEntryErrors[i] = { code: e.code, message: e.message };
    const detail = p.partialErrors.encode(p.partialErrors.fromObject({ logEntryErrors })).finish();
    const statusBytes = p.status
      .encode(p.status.fromObject({ code: first.code, message: first.message, details: [{ type_url: PARTIAL_ERRORS_TYPE, value: detail }] }))
      .finish();
    const metadata = new grpc.Metadata();
    metadata.set('grpc-status-details-bin', Buffer.from(statusBytes));
    return { seen: seen(first.code, stored), error: { code: first.code, details: first.message, metadata } };
  }

  function toStored(message: protobuf.Message, defaults: Record<string, unknown>): StoredEntry {
    const e = p.entry.toObject(message, { longs: String, enums: String, defaults: false, oneofs: true }) as Record<string, any>;
    const size = p.entry.encode(message).finish().length;
    const resource = (e['resource'] ?? defaults['resource']) as { type?: string; labels?: Record<string, string> } | undefined;
    let insertId = (e['insertId'] as string | undefined) ?? '';
    let timestamp = e['timestamp'] ? rfc3339(e['timestamp']) : '';
    if (timestamp === '') timestamp = rfc3339({ seconds: Math.floor(Date.now() / 1000), nanos: (Date.now() % 1000) * 1e6 });
    if (insertId === '') insertId = `generated-${++generatedIds}`;
    return {
      logName: (e['logName'] as string | undefined) || ((defaults['logName'] as string | undefined) ?? ''),
      resource: resource ? { type: resource.type ?? '', labels: { ...resource.labels } } : undefined,
      labels: { ...(defaults['labels'] as Record<string, string> | undefined), ...(e['labels'] as Record<string, string> | undefined) },
      timestamp,
      severity: (e['severity'] as string | undefined) ?? 'DEFAULT',
      insertId,
      jsonPayload: e['jsonPayload'] ? (structToJson(e['jsonPayload']) as Record<string, unknown>) : undefined,
      textPayload: e['textPayload'] as string | undefined,
      size,
    };
  }

  function store(entry: StoredEntry): boolean {
    stats.entries++;
    const key = `${projectOf(entry.logName)}\u0000${entry.timestamp}\u0000${entry.insertId}`;
    if (entries.has(key)) {
      stats.duplicates++;
      return false;
    }
    entries.set(key, entry);
    return true;
  }

  async function start(): Promise<void> {
    const s = new grpc.Server({ 'grpc.max_receive_message_length': 4 * MAX_REQUEST_BYTES });
    s.addService(service, { WriteLogEntries: write as grpc.handleUnaryCall<RawWrite, unknown> });
    port = await new Promise<number>((resolve, reject) =>
      s.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
    );
    server = s;
  }

  async function stop(): Promise<void> {
    const s = server;
    server = null;
    s?.forceShutdown();
  }

  await start();
  return handle;
}

/** The service's checks of one entry (with the request's defaults applied). */
function validate(entry: StoredEntry): EntryError | null {
  const invalid = (message: string): EntryError => ({ code: Code.INVALID_ARGUMENT, message });
  const logProblem = logNameProblem(entry.logName);
  if (logProblem !== null) return invalid(logProblem);
  if (!entry.resource || entry.resource.type === '') return invalid('A monitored resource must be specified for each log entry.');
  if (entry.size > MAX_ENTRY_BYTES) {
    return invalid(`Log entry with size ${(entry.size / 1024).toFixed(1)}K exceeds maximum size of ${(MAX_ENTRY_BYTES / 1024).toFixed(1)}K`);
  }
  if (Object.keys(entry.labels).length > MAX_LABELS) return invalid(`Log entry has more than ${MAX_LABELS} labels`);
  if (Date.parse(entry.timestamp) > Date.now() + MAX_FUTURE_MS) {
    return invalid(`Log entry timestamp ${entry.timestamp} is more than 1 day in the future`);
  }
  return null;
}

/** Null when `name` is `projects/PROJECT_ID/logs/LOG_ID` with a well-formed, URL-encoded LOG_ID. */
export function logNameProblem(name: string): string | null {
  if (name === '') return 'Log name is required: set log_name on the request or on each entry.';
  const m = /^projects\/([a-z][a-z0-9.:-]*)\/logs\/([^/]+)$/.exec(name);
  if (!m) return `Invalid log name "${name}": expected projects/[PROJECT_ID]/logs/[LOG_ID] with LOG_ID URL-encoded`;
  let logId: string;
  try {
    logId = decodeURIComponent(m[2]!);
  } catch {
    return `Invalid log name "${name}": LOG_ID is not URL-encoded`;
  }
  if (logId.length >= 512) return `Invalid log name "${name}": LOG_ID must be less than 512 characters`;
  if (!/^[A-Za-z0-9/_.-]+$/.test(logId)) {
    return `Invalid log name "${name}": LOG_ID may contain only letters, digits, '/', '_', '-' and '.'`;
  }
  return null;
}

function projectOf(logName: string): string {
  return /^projects\/([^/]+)\//.exec(logName)?.[1] ?? '';
}

function rfc3339(ts: { seconds?: string | number; nanos?: number }): string {
  const seconds = Number(ts.seconds ?? 0);
  const nanos = ts.nanos ?? 0;
  const base = new Date(seconds * 1000).toISOString().slice(0, 19);
  return `${base}.${String(nanos).padStart(9, '0')}Z`;
}

/** google.protobuf.Struct (as protobufjs' toObject gives it, with oneofs) → plain JSON. */
export function structToJson(struct: { fields?: Record<string, unknown> }): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(struct.fields ?? {})) out[k] = valueToJson(v as Record<string, any>);
  return out;
}

function valueToJson(v: Record<string, any>): unknown {
  switch (v['kind']) {
    case 'nullValue':
      return null;
    case 'numberValue':
      return v['numberValue'];
    case 'stringValue':
      return v['stringValue'];
    case 'boolValue':
      return v['boolValue'];
    case 'structValue':
      return structToJson(v['structValue']);
    case 'listValue':
      return ((v['listValue']?.values ?? []) as Record<string, any>[]).map(valueToJson);
    default:
      return undefined;
  }
}

/**
 * For the duration of a test file: every TCP connection this process opens must go to loopback. One that would not
 * (a metadata server, an OAuth endpoint, logging.googleapis.com) throws instead, and is listed in `offenders`.
 */
export function guardLoopback(): { readonly offenders: readonly string[]; restore(): void } {
  const offenders: string[] = [];
  const original = Socket.prototype.connect;
  const loopback = (host: string): boolean => host === 'localhost' || host === '::1' || /^127\./.test(host) || host === '::ffff:127.0.0.1';
  Socket.prototype.connect = function (this: Socket, ...args: unknown[]) {
    // net.connect() passes its normalised arguments as one array: [options, callback].
    const first = Array.isArray(args[0]) ? (args[0] as unknown[])[0] : args[0];
    let host: string | undefined;
    let port: unknown;
    if (typeof first === 'object' && first !== null) {
      const o = first as { host?: string; path?: string; port?: number };
      if (o.path === undefined) [host, port] = [o.host ?? 'localhost', o.port];
    } else if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
      [host, port] = [typeof args[1] === 'string' ? args[1] : 'localhost', first];
    }
    if (host !== undefined && !loopback(host)) {
      offenders.push(`${host}:${String(port)}`);
      throw new Error(`test tried to connect off loopback: ${host}:${String(port)}`);
    }
    return (original as (...a: unknown[]) => Socket).apply(this, args);
  } as typeof Socket.prototype.connect;
  return {
    offenders,
    restore: () => void (Socket.prototype.connect = original),
  };
}
