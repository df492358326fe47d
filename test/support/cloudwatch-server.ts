/**
 * A small CloudWatch Logs for tests: an HTTP server on 127.0.0.1 speaking the awsJson1.1 protocol the AWS SDK v3
 * client uses (`POST /`, `Content-Type: application/x-amz-json-1.1`, `X-Amz-Target: Logs_20140328.<Operation>`), so
 * @aws-sdk/client-cloudwatch-logs talks to it unmodified through an `endpoint` override. It checks each request's
 * Signature Version 4 against the test credentials, keeps events in memory per group and stream, applies the real
 * PutLogEvents limits with the real error shapes, and lets a test inject faults at any time.
 *
 * Errors are answered as CloudWatch answers them: an HTTP status (400 for client faults, 500 for
 * ServiceUnavailableException) and `{"__type":"<Code>","message":"..."}`.
 * References: https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutLogEvents.html and the
 * pages of CreateLogGroup, CreateLogStream, PutRetentionPolicy, DescribeLogStreams; SigV4:
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
 */
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { type IncomingMessage, type ServerResponse } from 'node:http';
import { loopbackHttp } from './loopback-http.js';

export const TEST_ACCESS_KEY_ID = 'AKIDLOGSHIPTEST00001';
export const TEST_SECRET_ACCESS_KEY = 'logship/test/secret/not-a-real-key/000000';
export const TEST_REGION = 'eu-west-1';

/** The environment a client (or the agent) needs to reach this server with the test credentials, and nothing else. */
export const TEST_AWS_ENV: Record<string, string> = {
  AWS_ACCESS_KEY_ID: TEST_ACCESS_KEY_ID,
  AWS_SECRET_ACCESS_KEY: TEST_SECRET_ACCESS_KEY,
  AWS_REGION: TEST_REGION,
  AWS_EC2_METADATA_DISABLED: 'true',
  // No shared files from the machine running the tests: a profile there must not change what the client does.
  AWS_CONFIG_FILE: '/nonexistent/logship-test/aws-config',
  AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/logship-test/aws-credentials',
};

const MAX_BATCH_BYTES = 1_048_576;
const EVENT_OVERHEAD = 26;
const MAX_BATCH_EVENTS = 10_000;
const HOUR = 3600_000;
const DAY = 24 * HOUR;

export interface StoredEvent {
  readonly timestamp: number;
  readonly message: string;
  readonly ingestionTime: number;
}

export interface GroupState {
  retentionInDays?: number;
  readonly creationTime: number;
  readonly streams: Map<string, StoredEvent[]>;
}

export interface SeenRequest {
  readonly operation: string;
  readonly group?: string;
  readonly stream?: string;
  readonly events?: number;
  /** Bytes as CloudWatch counts them: UTF-8 message bytes + 26 per event. */
  readonly bytes?: number;
  /** 200, or the status of the error answered. */
  status: number;
  /** The error code answered, if any. */
  error?: string;
}

export interface CloudWatchServerOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Largest event, message bytes + 26. Default 1,048,576 (the current quota); 262,144 for the older one. */
  maxEventBytes?: number;
  /** DescribeLogStreams requests per second before ThrottlingException. Default 25 (its documented quota). */
  describeTps?: number;
  /** The server's clock. Default Date.now. */
  now?: () => number;
}

export interface CloudWatchServerHandle {
  readonly url: string;
  readonly port: number;
  readonly groups: Map<string, GroupState>;
  /** Every request, in order of arrival. */
  readonly requests: SeenRequest[];
  /** Most PutLogEvents in flight at once: in all, and to one stream. */
  readonly maxInFlight: { all: number; perStream: number };
  /** Events of a stream, or of every stream of the group, in the order stored. */
  events(group: string, stream?: string): StoredEvent[];
  /** Messages of every event stored, all groups. */
  allMessages(): string[];
  /** Milliseconds to wait before answering any request (while it counts as in flight). */
  delayMs: number;
  /** Answer the next `n` PutLogEvents with ThrottlingException ("Rate exceeded"). */
  throttleNext(n: number): void;
  /** Answer the next `n` requests of `operation` (default PutLogEvents) with the error `code` (default status 400). */
  failNext(n: number, code: string, opts?: { operation?: string; status?: number; message?: string }): void;
  /** AccessDeniedException for `operation` ('*' for all) until called with null. */
  deny(operation: string | null): void;
  /** Store the next `n` PutLogEvents, then answer DataAlreadyAcceptedException. */
  alreadyAcceptedNext(n: number): void;
  /** Store the next `n` PutLogEvents, then cut the connection without answering (a response lost on the way). */
  dropResponseNext(n: number): void;
  createGroup(name: string, retentionInDays?: number): void;
  createStream(group: string, stream: string): void;
  deleteGroup(name: string): void;
  deleteStream(group: string, stream: string): void;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

class AwsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const RETENTION_DAYS = new Set([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]);

export async function startCloudWatchServer(opts: CloudWatchServerOptions = {}): Promise<CloudWatchServerHandle> {
  const now = opts.now ?? Date.now;
  const maxEventBytes = opts.maxEventBytes ?? 1_048_576;
  const describeTps = opts.describeTps ?? 25;
  const groups = new Map<string, GroupState>();
  const requests: SeenRequest[] = [];
  const maxInFlight = { all: 0, perStream: 0 };
  const inFlight = new Map<string, number>();
  let inFlightAll = 0;
  const describeTimes: number[] = [];

  const injected: { operation: string; code: string; status: number; message?: string; left: number }[] = [];
  let denied: string | null = null;
  let alreadyAccepted = 0;
  let dropResponses = 0;


  const http = loopbackHttp((req, res) => {
    onRequest(req, res).catch((err: unknown) => {
      if (!res.headersSent) answerError(res, new AwsError('InternalFailure', String(err), 500));
    });
  }, opts.port);
  const { start, stop } = http;

  const handle: CloudWatchServerHandle = {
    get url() {
      return http.url;
    },
    get port() {
      return http.port;
    },
    groups,
    requests,
    maxInFlight,
    events(group, stream) {
      const g = groups.get(group);
      if (!g) return [];
      if (stream !== undefined) return g.streams.get(stream) ?? [];
      return [...g.streams.values()].flat();
    },
    allMessages() {
      return [...groups.values()].flatMap((g) => [...g.streams.values()].flat().map((e) => e.message));
    },
    delayMs: 0,
    throttleNext(n) {
      injected.push({ operation: 'PutLogEvents', code: 'ThrottlingException', status: 400, message: 'Rate exceeded', left: n });
    },
    failNext(n, code, o = {}) {
      injected.push({ operation: o.operation ?? 'PutLogEvents', code, status: o.status ?? (code === 'ServiceUnavailableException' ? 500 : 400), ...(o.message !== undefined && { message: o.message }), left: n });
    },
    deny(operation) {
      denied = operation;
    },
    alreadyAcceptedNext(n) {
      alreadyAccepted = n;
    },
    dropResponseNext(n) {
      dropResponses = n;
    },
    createGroup(name, retentionInDays) {
      groups.set(name, { ...(retentionInDays !== undefined && { retentionInDays }), creationTime: now(), streams: new Map() });
    },
    createStream(group, stream) {
      groups.get(group)?.streams.set(stream, []);
    },
    deleteGroup(name) {
      groups.delete(name);
    },
    deleteStream(group, stream) {
      groups.get(group)?.streams.delete(stream);
    },
    stop,
    start,
    close: stop,
  };


  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.startsWith('Logs_20140328.') ? target.slice('Logs_20140328.'.length) : target;
    let input: Record<string, any> = {};
    const seen: SeenRequest = { operation, status: 200 };
    requests.push(seen);
    try {
      if (req.method !== 'POST' || !/^application\/x-amz-json-1\.1/.test(String(req.headers['content-type'] ?? ''))) {
        throw new AwsError('UnknownOperationException', `unsupported request ${req.method} ${req.headers['content-type'] ?? ''}`);
      }
      checkSignature(req, body);
      try {
        input = JSON.parse(body.toString('utf8') || '{}') as Record<string, any>;
      } catch {
        throw new AwsError('SerializationException', 'Start of structure or map found where not expected.');
      }
      if (typeof input['logGroupName'] === 'string') Object.assign(seen, { group: input['logGroupName'] });
      if (typeof input['logStreamName'] === 'string') Object.assign(seen, { stream: input['logStreamName'] });
      if (Array.isArray(input['logEvents'])) {
        const events = input['logEvents'] as { message?: unknown }[];
        Object.assign(seen, { events: events.length, bytes: events.reduce((s, e) => s + Buffer.byteLength(String(e.message ?? '')) + EVENT_OVERHEAD, 0) });
      }
      if (denied === '*' || denied === operation) {
        throw new AwsError('AccessDeniedException', `User: arn:aws:iam::123456789012:user/logship is not authorized to perform: logs:${operation} on resource: arn:aws:logs:${TEST_REGION}:123456789012:log-group:${String(input['logGroupName'] ?? '*')}:log-stream: because no identity-based policy allows the logs:${operation} action`);
      }
      const fault = injected.find((f) => f.left > 0 && f.operation === operation);
      if (fault) {
        fault.left--;
        throw new AwsError(fault.code, fault.message ?? `injected ${fault.code}`, fault.status);
      }
      const result = await dispatch(operation, input, res);
      if (result === undefined) return; // the connection was cut on purpose
      answer(res, 200, result);
    } catch (err) {
      const e = err instanceof AwsError ? err : new AwsError('InternalFailure', String(err), 500);
      seen.status = e.status;
      seen.error = e.code;
      answerError(res, e);
    }
  }

  async function dispatch(operation: string, input: Record<string, any>, res: ServerResponse): Promise<unknown> {
    switch (operation) {
      case 'CreateLogGroup':
        return createLogGroup(input);
      case 'CreateLogStream':
        return createLogStream(input);
      case 'PutRetentionPolicy':
        return putRetentionPolicy(input);
      case 'DescribeLogStreams':
        return describeLogStreams(input);
      case 'PutLogEvents':
        return putLogEvents(input, res);
      default:
        throw new AwsError('UnknownOperationException', `operation ${operation} is not implemented by the test server`);
    }
  }

  function createLogGroup(input: Record<string, any>): unknown {
    const name = requireName(input, 'logGroupName');
    // Log group names: 1-512 of [\.\-_/#A-Za-z0-9]+.
    if (!/^[.\-_/#A-Za-z0-9]{1,512}$/.test(name)) {
      throw new AwsError('InvalidParameterException', `1 validation error detected: Value '${name}' at 'logGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+`);
    }
    if (groups.has(name)) throw new AwsError('ResourceAlreadyExistsException', 'The specified log group already exists');
    handle.createGroup(name);
    return {};
  }

  function createLogStream(input: Record<string, any>): unknown {
    const group = groupOf(input);
    const name = requireName(input, 'logStreamName');
    if (!/^[^:*]{1,512}$/.test(name)) {
      throw new AwsError('InvalidParameterException', `1 validation error detected: Value '${name}' at 'logStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:*]*`);
    }
    if (group.streams.has(name)) throw new AwsError('ResourceAlreadyExistsException', 'The specified log stream already exists');
    group.streams.set(name, []);
    return {};
  }

  function putRetentionPolicy(input: Record<string, any>): unknown {
    const group = groupOf(input);
    const days = input['retentionInDays'] as unknown;
    if (typeof days !== 'number' || !RETENTION_DAYS.has(days)) {
      throw new AwsError('InvalidParameterException', `1 validation error detected: Value '${String(days)}' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: [${[...RETENTION_DAYS].join(', ')}]`);
    }
    group.retentionInDays = days;
    return {};
  }

  function describeLogStreams(input: Record<string, any>): unknown {
    const t = now();
    while (describeTimes.length > 0 && describeTimes[0]! <= t - 1000) describeTimes.shift();
    if (describeTimes.length >= describeTps) throw new AwsError('ThrottlingException', 'Rate exceeded');
    describeTimes.push(t);
    const group = groupOf(input);
    const prefix = typeof input['logStreamNamePrefix'] === 'string' ? input['logStreamNamePrefix'] : '';
    const limit = typeof input['limit'] === 'number' ? input['limit'] : 50;
    const names = [...group.streams.keys()].filter((n) => n.startsWith(prefix)).sort();
    const start = typeof input['nextToken'] === 'string' ? Number(input['nextToken']) : 0;
    const page = names.slice(start, start + limit);
    return {
      logStreams: page.map((name) => {
        const events = group.streams.get(name) ?? [];
        return {
          logStreamName: name,
          creationTime: group.creationTime,
          arn: `arn:aws:logs:${TEST_REGION}:123456789012:log-group:${String(input['logGroupName'])}:log-stream:${name}`,
          storedBytes: 0,
          ...(events.length > 0 && {
            firstEventTimestamp: Math.min(...events.map((e) => e.timestamp)),
            lastEventTimestamp: Math.max(...events.map((e) => e.timestamp)),
            lastIngestionTime: events[events.length - 1]!.ingestionTime,
          }),
        };
      }),
      ...(start + limit < names.length && { nextToken: String(start + limit) }),
    };
  }

  async function putLogEvents(input: Record<string, any>, res: ServerResponse): Promise<unknown> {
    const events = input['logEvents'] as { timestamp?: unknown; message?: unknown }[] | undefined;
    if (!Array.isArray(events) || events.length < 1) {
      throw new AwsError('InvalidParameterException', "1 validation error detected: Value '[]' at 'logEvents' failed to satisfy constraint: Member must have length greater than or equal to 1");
    }
    if (events.length > MAX_BATCH_EVENTS) {
      throw new AwsError('InvalidParameterException', `1 validation error detected: Value at 'logEvents' failed to satisfy constraint: Member must have length less than or equal to ${MAX_BATCH_EVENTS}`);
    }
    const group = groupOf(input);
    const streamName = requireName(input, 'logStreamName');
    const stream = group.streams.get(streamName);
    if (!stream) throw new AwsError('ResourceNotFoundException', 'The specified log stream does not exist.');

    const key = `${String(input['logGroupName'])}\u0000${streamName}`;
    const mine = (inFlight.get(key) ?? 0) + 1;
    inFlight.set(key, mine);
    inFlightAll++;
    maxInFlight.perStream = Math.max(maxInFlight.perStream, mine);
    maxInFlight.all = Math.max(maxInFlight.all, inFlightAll);
    try {
      if (handle.delayMs > 0) await new Promise((r) => setTimeout(r, handle.delayMs));
      let total = 0;
      for (const e of events) {
        if (typeof e.timestamp !== 'number' || typeof e.message !== 'string' || e.message.length === 0) {
          throw new AwsError('InvalidParameterException', 'Each log event needs a timestamp and a non-empty message.');
        }
        const size = Buffer.byteLength(e.message) + EVENT_OVERHEAD;
        if (size > maxEventBytes) throw new AwsError('InvalidParameterException', `Log event too large: ${size} bytes exceeds limit of ${maxEventBytes}`);
        total += size;
      }
      if (total > MAX_BATCH_BYTES) throw new AwsError('InvalidParameterException', `Upload too large: ${total} bytes exceeds limit of ${MAX_BATCH_BYTES}`);
      const ts = events.map((e) => e.timestamp as number);
      for (let i = 1; i < ts.length; i++) {
        if (ts[i]! < ts[i - 1]!) throw new AwsError('InvalidParameterException', 'Log events in a single PutLogEvents request must be in chronological order.');
      }
      // Too old (14 days), expired (the group's retention) and too new (2 hours ahead) are refused one by one; the
      // indexes say which: events are sorted, so the old ones lead and the new ones trail.
      const t = now();
      const tooOldEnd = ts.filter((x) => x < t - 14 * DAY).length;
      const expiredEnd = group.retentionInDays === undefined ? 0 : ts.filter((x) => x < t - group.retentionInDays! * DAY).length;
      const firstTooNew = ts.findIndex((x) => x > t + 2 * HOUR);
      const validFrom = Math.max(tooOldEnd, expiredEnd);
      const validTo = firstTooNew === -1 ? ts.length : firstTooNew;
      // The 24-hour span applies to the valid events.
      if (validTo > validFrom && ts[validTo - 1]! - ts[validFrom]! > DAY) {
        throw new AwsError('InvalidParameterException', 'The batch of log events in a single PutLogEvents request cannot span more than 24 hours.');
      }
      for (let i = validFrom; i < validTo; i++) stream.push({ timestamp: ts[i]!, message: events[i]!.message as string, ingestionTime: t });

      if (dropResponses > 0) {
        dropResponses--;
        res.socket?.destroy();
        return undefined;
      }
      if (alreadyAccepted > 0) {
        alreadyAccepted--;
        throw new AwsError('DataAlreadyAcceptedException', 'The given batch of log events has already been accepted. The next batch can be sent with sequenceToken: 49039859558983');
      }
      const info: Record<string, number> = {};
      if (tooOldEnd > 0) info['tooOldLogEventEndIndex'] = tooOldEnd;
      if (expiredEnd > 0) info['expiredLogEventEndIndex'] = expiredEnd;
      if (firstTooNew !== -1) info['tooNewLogEventStartIndex'] = firstTooNew;
      return { nextSequenceToken: String(Date.now()), ...(Object.keys(info).length > 0 && { rejectedLogEventsInfo: info }) };
    } finally {
      inFlight.set(key, (inFlight.get(key) ?? 1) - 1);
      inFlightAll--;
    }
  }

  function groupOf(input: Record<string, any>): GroupState {
    const name = requireName(input, 'logGroupName');
    const group = groups.get(name);
    if (!group) throw new AwsError('ResourceNotFoundException', 'The specified log group does not exist.');
    return group;
  }

  await start();
  return handle;
}

function requireName(input: Record<string, any>, key: string): string {
  const v = input[key] as unknown;
  if (typeof v !== 'string' || v.length === 0) {
    throw new AwsError('InvalidParameterException', `1 validation error detected: Value null at '${key}' failed to satisfy constraint: Member must not be null`);
  }
  return v;
}

/**
 * Signature Version 4, checked as AWS checks it: the credential's key id must be the test one, and the signature
 * must be the HMAC chain of the test secret over the canonical request.
 */
function checkSignature(req: IncomingMessage, body: Buffer): void {
  const auth = String(req.headers['authorization'] ?? '');
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) throw new AwsError('MissingAuthenticationTokenException', 'Missing Authentication Token', 400);
  const [, keyId, date, region, service, signedHeaders, signature] = m as unknown as string[];
  if (keyId !== TEST_ACCESS_KEY_ID) throw new AwsError('UnrecognizedClientException', 'The security token included in the request is invalid.');
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  const headers = signedHeaders!.split(';');
  const canonicalHeaders = headers.map((h) => `${h}:${String(req.headers[h] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const url = new URL(req.url ?? '/', 'http://localhost');
  const canonicalRequest = [req.method, url.pathname, url.search.slice(1), canonicalHeaders, signedHeaders, sha256(body)].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  let key: Buffer = hmac(`AWS4${TEST_SECRET_ACCESS_KEY}`, date!);
  for (const part of [region!, service!, 'aws4_request']) key = hmac(key, part);
  const expected = createHmac('sha256', key).update(stringToSign).digest('hex');
  if (expected !== signature) {
    throw new AwsError('InvalidSignatureException', 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.');
  }
}

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

function answer(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.1',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
  });
  res.end(text);
}

function answerError(res: ServerResponse, e: AwsError): void {
  answer(res, e.status, { __type: e.code, message: e.message });
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
