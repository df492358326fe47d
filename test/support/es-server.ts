/**
 * A small Elasticsearch for tests: an HTTP server on 127.0.0.1 that speaks enough of the real REST protocol for the
 * official client (@elastic/elasticsearch 8.19) to talk to it unmodified. It keeps documents in memory, answers
 * `_bulk` item by item the way Elasticsearch does, and lets a test inject faults at any time.
 *
 * Each behaviour it imitates is commented with what Elasticsearch does; response bodies are copied in shape from
 * real 8.x/9.x clusters. Reference: https://www.elastic.co/docs/api/doc/elasticsearch/operation/operation-bulk
 */
import { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { loopbackHttp } from './loopback-http.js';
import { randomUUID } from 'node:crypto';
import { createGzip, gunzipSync, gzipSync } from 'node:zlib';

type Source = Record<string, unknown>;

export interface EsServerOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Reported by `GET /` as version.number. Default "8.19.0"; "9.1.0" for an Elasticsearch 9 cluster. */
  version?: string;
  /** Require credentials, as a cluster with security enabled does. Either or both may be given. */
  auth?: { basic?: { username: string; password: string }; apiKey?: string };
  /** `action.auto_create_index` (default true). When false, writing to a missing plain index fails 404. */
  autoCreateIndex?: boolean;
  /** Serve HTTPS with this key and certificate (PEM). */
  tls?: { key: string; cert: string };
}

/** One HTTP request as the server saw it, for assertions on headers (compression, compatibility, auth). */
export interface SeenRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly status: number;
}

export interface EsServerHandle {
  readonly url: string;
  readonly port: number;
  /** Stored documents: target name (index or data stream) → (_id → _source). */
  readonly docs: Map<string, Map<string, Source>>;
  /** How many `create` actions named each _id (across all targets), whatever their outcome. */
  readonly createAttempts: Map<string, number>;
  /**
   * How many times each _id was sent again after it was stored (`create` answered 409): a record's sends beyond the
   * first that reached the index, which a retry of a refused item is not.
   */
  readonly createConflicts: Map<string, number>;
  /** Index templates installed with PUT /_index_template/{name}: name → body. */
  readonly templates: Map<string, Source>;
  /** Every request in order. */
  readonly requests: SeenRequest[];
  /** Item statuses of the most recent `_bulk` request, in request order. */
  readonly lastBulkStatuses: readonly number[];
  readonly stats: { requests: number; bulkRequests: number; items: number };
  /** Number of documents stored in a target (0 when it does not exist). */
  count(target: string): number;
  /** Fraction of bulk items answered 429; deterministic (a counter, reset whenever this is set). */
  itemRejectRate: number;
  /** Milliseconds to wait before answering any request. */
  delayMs: number;
  /** Answer every request with this status and Elasticsearch's error body for it; null restores normal service. */
  rejectAllWith(status: number | null, opts?: { retryAfterSeconds?: number }): void;
  /**
   * `_bulk` answers padded with `bytes` of whitespace after the JSON (still valid JSON, as a broken proxy or a hostile
   * endpoint could send), with a content-length or chunked, gzipped when the client accepts it; null turns it off.
   * The items are stored all the same.
   */
  hugeBulkAnswers: { bytes: number; chunked: boolean } | null;
  /** Items whose source matches are answered 400 mapper_parsing_exception; null turns it off. */
  mappingErrorWhen(predicate: ((doc: Source) => boolean) | null, field?: string): void;
  /** Stop listening and destroy open (keep-alive) sockets: clients get connection refused. */
  stop(): Promise<void>;
  /** Listen again on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

const NDJSON_TYPES = ['application/x-ndjson', 'application/json', 'application/vnd.elasticsearch+x-ndjson', 'application/vnd.elasticsearch+json'];

export async function startEsServer(opts: EsServerOptions = {}): Promise<EsServerHandle> {
  const version = opts.version ?? '8.19.0';
  const major = Number(version.split('.')[0]);
  const autoCreateIndex = opts.autoCreateIndex ?? true;
  const docs = new Map<string, Map<string, Source>>();
  const versions = new Map<string, number>(); // `${target}\u0000${id}` → _version
  const dataStreams = new Map<string, string>(); // data stream → its backing index name
  const createAttempts = new Map<string, number>();
  const createConflicts = new Map<string, number>();
  const templates = new Map<string, Source>();
  const requests: SeenRequest[] = [];
  const stats = { requests: 0, bulkRequests: 0, items: 0 };
  let lastBulkStatuses: number[] = [];
  let seqNo = 0;

  let rejectRate = 0;
  let rejectCounter = 0;
  let rejectAll: { status: number; retryAfterSeconds?: number } | null = null;
  let mappingError: { predicate: (doc: Source) => boolean; field: string } | null = null;


  const http = loopbackHttp((req, res) => {
    onRequest(req, res).catch((err: unknown) => {
      send(req, res, 500, errorBody(500, 'exception', String(err)));
    });
  }, opts.port, opts.tls);
  const { start, stop } = http;

  const handle: EsServerHandle = {
    get url() {
      return http.url;
    },
    get port() {
      return http.port;
    },
    docs,
    createAttempts,
    createConflicts,
    templates,
    requests,
    get lastBulkStatuses() {
      return lastBulkStatuses;
    },
    stats,
    count: (target) => docs.get(target)?.size ?? 0,
    get itemRejectRate() {
      return rejectRate;
    },
    set itemRejectRate(rate: number) {
      rejectRate = rate;
      rejectCounter = 0;
    },
    delayMs: 0,
    hugeBulkAnswers: null,
    rejectAllWith(status, o) {
      rejectAll = status === null ? null : { status, ...o };
    },
    mappingErrorWhen(predicate, field = 'message') {
      mappingError = predicate === null ? null : { predicate, field };
    },
    stop,
    start,
    close: stop,
  };


  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    stats.requests++;
    const raw = await readBody(req);
    if (handle.delayMs > 0) await new Promise((r) => setTimeout(r, handle.delayMs));
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;

    // Security: every API needs credentials when security is on; a failure is 401 security_exception with a
    // WWW-Authenticate header listing the schemes the cluster accepts.
    const authFailure = checkAuth(req.headers.authorization, path);
    if (authFailure) return send(req, res, 401, authFailure, { 'www-authenticate': 'Basic realm="security", charset="UTF-8", ApiKey' });

    if (rejectAll) {
      const headers: Record<string, string> = rejectAll.retryAfterSeconds !== undefined ? { 'retry-after': String(rejectAll.retryAfterSeconds) } : {};
      return send(req, res, rejectAll.status, wholeRequestError(rejectAll.status, path), headers);
    }

    // Elasticsearch decodes request bodies sent with Content-Encoding: gzip (http.compression).
    let body = raw;
    if (/gzip/i.test(req.headers['content-encoding'] ?? '')) body = gunzipSync(raw);

    if (req.method === 'GET' && path === '/') return send(req, res, 200, infoBody());

    const bulk = /^\/(?:([^/_][^/]*)\/)?_bulk$/.exec(path);
    if (bulk && (req.method === 'POST' || req.method === 'PUT')) {
      stats.bulkRequests++;
      // A media type outside JSON/NDJSON is refused with 406; the vendored compatible-with=N type must name this
      // major or the one before (REST API compatibility), otherwise 400 media_type_header_exception.
      const ct = (req.headers['content-type'] ?? '').toLowerCase();
      if (!NDJSON_TYPES.some((t) => ct.startsWith(t))) {
        return send(req, res, 406, { error: `Content-Type header [${ct}] is not supported`, status: 406 });
      }
      const compat = /compatible-with=(\d+)/.exec(ct);
      if (compat && Number(compat[1]) !== major && Number(compat[1]) !== major - 1) {
        const reason = `Invalid media-type value on headers [Content-Type, Accept]`;
        return send(req, res, 400, errorBody(400, 'media_type_header_exception', reason));
      }
      const defaultIndex = bulk[1] === undefined ? undefined : decodeURIComponent(bulk[1]);
      const [status, answer] = handleBulk(body.toString('utf8'), defaultIndex);
      const filter = url.searchParams.get('filter_path');
      const filtered = filter === null ? answer : filterPath(answer, filter);
      if (handle.hugeBulkAnswers !== null) return sendHuge(req, res, status, filtered, handle.hugeBulkAnswers);
      return send(req, res, status, filtered);
    }

    const tmpl = /^\/_index_template\/([^/]+)$/.exec(path);
    if (tmpl?.[1] !== undefined) {
      const name = decodeURIComponent(tmpl[1]);
      if (req.method === 'PUT' || req.method === 'POST') {
        templates.set(name, JSON.parse(body.toString('utf8')) as Source);
        return send(req, res, 200, { acknowledged: true });
      }
      if (req.method === 'GET') {
        const t = templates.get(name);
        // GET of a missing template: 404 resource_not_found_exception.
        if (!t) return send(req, res, 404, errorBody(404, 'resource_not_found_exception', `index template matching [${name}] not found`));
        return send(req, res, 200, { index_templates: [{ name, index_template: t }] });
      }
    }

    // Anything else: Elasticsearch answers an unknown endpoint 400 with a plain "no handler" error.
    const reason = `no handler found for uri [${path}] and method [${req.method}]`;
    return send(req, res, 400, { error: reason });
  }

  /** `_bulk`: NDJSON pairs of action line + source line; each item succeeds or fails on its own. */
  function handleBulk(text: string, defaultIndex: string | undefined): [number, unknown] {
    const started = Date.now();
    // The body must end with a newline; Elasticsearch refuses the whole request otherwise.
    if (!text.endsWith('\n')) {
      return [400, errorBody(400, 'illegal_argument_exception', 'The bulk request must be terminated by a newline [\\n]')];
    }
    const lines = text.split('\n');
    lines.pop();
    const items: Source[] = [];
    for (let i = 0; i < lines.length; ) {
      const line = lines[i++] ?? '';
      if (line.trim() === '') continue;
      let action: Record<string, { _index?: string; _id?: string }>;
      try {
        action = JSON.parse(line) as typeof action;
      } catch {
        return [400, errorBody(400, 'x_content_parse_exception', `[1:1] Unexpected character in action line ${i}`)];
      }
      const op = Object.keys(action)[0] ?? '';
      const meta = action[op] ?? {};
      // delete has no source line; create, index and update have one.
      let source: Source | undefined;
      if (op !== 'delete') {
        try {
          source = JSON.parse(lines[i++] ?? '') as Source;
        } catch {
          return [400, errorBody(400, 'x_content_parse_exception', `[1:1] Unexpected end of input in source line ${i}`)];
        }
      }
      const target = meta._index ?? defaultIndex;
      if (target === undefined) {
        return [400, errorBody(400, 'action_request_validation_exception', 'Validation Failed: 1: index is missing;')];
      }
      stats.items++;
      items.push({ [op]: bulkItem(op, target, meta._id ?? randomUUID().replaceAll('-', '').slice(0, 20), source) });
    }
    lastBulkStatuses = items.map((it) => (Object.values(it)[0] as { status: number }).status);
    // `errors` is true when any item failed; `took` is milliseconds spent.
    return [200, { took: Date.now() - started, errors: lastBulkStatuses.some((s) => s >= 300), items }];
  }

  /** One bulk item, answered as Elasticsearch answers it: `status` plus either the write result or `error`. */
  function bulkItem(op: string, target: string, id: string, source: Source | undefined): Source {
    if (op === 'create') createAttempts.set(id, (createAttempts.get(id) ?? 0) + 1);
    const stream = isDataStream(target);
    const backing = stream ? backingIndex(target) : target;
    const fail = (status: number, type: string, reason: string, extra: Source = {}): Source => ({
      _index: backing,
      _id: id,
      status,
      error: { type, reason, ...extra },
    });
    const shardInfo = (index: string): Source => ({ index_uuid: uuidFor(index), shard: '0', index });

    // Indexing pressure / a full write queue rejects single items with 429 es_rejected_execution_exception.
    if (rejectRate > 0) {
      const n = rejectCounter++;
      if (Math.floor((n + 1) * rejectRate) > Math.floor(n * rejectRate)) {
        return fail(429, 'es_rejected_execution_exception', 'rejected execution of coordinating operation ' +
          '[coordinating_and_primary_bytes=104857600, replica_bytes=0, all_bytes=104857600, ' +
          'coordinating_operation_bytes=2048, max_coordinating_and_primary_bytes=104857600]');
      }
    }
    if (op !== 'create' && op !== 'index') {
      return fail(400, 'illegal_argument_exception', `the test server does not implement bulk [${op}]`);
    }
    // A data stream takes only op_type create.
    if (stream && op !== 'create') {
      return fail(400, 'illegal_argument_exception', `only write ops with an op_type of create are allowed in data streams`);
    }
    // A missing plain index is created on first write unless action.auto_create_index is false.
    if (!stream && !docs.has(target) && !autoCreateIndex) {
      return { _index: target, _id: id, status: 404, error: {
        type: 'index_not_found_exception', reason: `no such index [${target}] and [action.auto_create_index] is [false]`,
        'resource.type': 'index_expression', 'resource.id': target, index_uuid: '_na_', index: target,
      } };
    }
    // Document parsing happens before the engine looks at the id: a mapping conflict is 400 mapper_parsing_exception.
    if (mappingError && source && mappingError.predicate(source)) {
      const f = mappingError.field;
      return fail(400, 'mapper_parsing_exception',
        `failed to parse field [${f}] of type [long] in document with id '${id}'. Preview of field's value: 'x'`,
        { caused_by: { type: 'illegal_argument_exception', reason: 'For input string: "x"' } });
    }
    // A data stream document needs @timestamp: 400 document_parsing_exception (Elasticsearch 8.8+ name).
    if (stream && (source === undefined || source['@timestamp'] === undefined)) {
      return fail(400, 'document_parsing_exception', '[1:2] failed to parse: data stream timestamp field [@timestamp] is missing',
        { caused_by: { type: 'illegal_argument_exception', reason: 'data stream timestamp field [@timestamp] is missing' } });
    }

    let stored = docs.get(target);
    if (!stored) docs.set(target, (stored = new Map()));
    const key = `${target}\u0000${id}`;
    const current = versions.get(key);
    // create of an existing _id: 409 version_conflict_engine_exception, the stored document untouched.
    if (op === 'create' && current !== undefined) {
      createConflicts.set(id, (createConflicts.get(id) ?? 0) + 1);
      return fail(409, 'version_conflict_engine_exception',
        `[${id}]: version conflict, document already exists (current version [${current}])`, shardInfo(backing));
    }
    // index: creates (201 created) or overwrites (200 updated, _version + 1).
    const version = (current ?? 0) + 1;
    versions.set(key, version);
    stored.set(id, source ?? {});
    return {
      _index: backing,
      _id: id,
      _version: version,
      result: version === 1 ? 'created' : 'updated',
      _shards: { total: 2, successful: 1, failed: 0 },
      _seq_no: seqNo++,
      _primary_term: 1,
      status: version === 1 ? 201 : 200,
    };
  }

  /**
   * Whether writing to `name` goes to a data stream. An existing target keeps its kind; a new one takes the kind of
   * the highest-priority matching index template: the built-in `logs-*-*` (priority 100, data stream) or a stored one.
   */
  function isDataStream(name: string): boolean {
    if (dataStreams.has(name)) return true;
    if (docs.has(name)) return false;
    let best: { priority: number; dataStream: boolean } | null = globMatch('logs-*-*', name) ? { priority: 100, dataStream: true } : null;
    for (const t of templates.values()) {
      const patterns = (t.index_patterns as string[] | string | undefined) ?? [];
      const list = Array.isArray(patterns) ? patterns : [patterns];
      const priority = typeof t.priority === 'number' ? t.priority : 0;
      if (list.some((p) => globMatch(p, name)) && (best === null || priority > best.priority)) {
        best = { priority, dataStream: t.data_stream !== undefined };
      }
    }
    return best?.dataStream ?? false;
  }

  /** Data stream writes land in a hidden backing index `.ds-<stream>-<yyyy.MM.dd>-000001`. */
  function backingIndex(stream: string): string {
    let b = dataStreams.get(stream);
    if (!b) {
      b = `.ds-${stream}-${new Date().toISOString().slice(0, 10).replaceAll('-', '.')}-000001`;
      dataStreams.set(stream, b);
    }
    return b;
  }

  function checkAuth(header: string | undefined, path: string): Source | null {
    const auth = opts.auth;
    if (!auth) return null;
    if (header === undefined) {
      return securityError(`missing authentication credentials for REST request [${path}]`);
    }
    const [scheme, value = ''] = header.split(' ', 2);
    if (scheme === 'Basic' && auth.basic) {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const user = decoded.slice(0, decoded.indexOf(':'));
      if (decoded === `${auth.basic.username}:${auth.basic.password}`) return null;
      return securityError(`unable to authenticate user [${user}] for REST request [${path}]`);
    }
    if (scheme === 'ApiKey' && auth.apiKey !== undefined && value === auth.apiKey) return null;
    return securityError('unable to authenticate with provided credentials and anonymous access is not allowed for this request');
  }

  /** Every response carries x-elastic-product (the client refuses servers without it) and a JSON content type. */
  /** An answer of `bytes` whitespace after the JSON, written 1 MiB at a time while the client keeps reading. */
  function sendHuge(req: IncomingMessage, res: ServerResponse, status: number, body: unknown, huge: { bytes: number; chunked: boolean }): void {
    requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, status });
    const json = Buffer.from(JSON.stringify(body));
    const gzip = /gzip/.test(String(req.headers['accept-encoding'] ?? ''));
    const out: Record<string, string> = { 'x-elastic-product': 'Elasticsearch', 'content-type': 'application/json' };
    const piece = Buffer.alloc(1 << 20, 0x20);
    let left = huge.bytes;
    res.on('close', () => (left = 0));
    if (gzip) {
      // A gzip bomb: a small compressed answer that inflates to `bytes`, made as it is sent (never whole in memory).
      out['content-encoding'] = 'gzip';
      res.writeHead(status, out);
      const zip = createGzip();
      zip.pipe(res);
      zip.write(json);
      const more = (): void => {
        while (left > 0 && !res.destroyed) {
          const n = Math.min(left, piece.length);
          left -= n;
          if (!zip.write(n === piece.length ? piece : piece.subarray(0, n))) return void zip.once('drain', more);
        }
        zip.end();
      };
      more();
      return;
    }
    if (!huge.chunked) out['content-length'] = String(json.length + huge.bytes);
    res.writeHead(status, out);
    res.write(json);
    const more = (): void => {
      while (left > 0 && !res.destroyed) {
        const n = Math.min(left, piece.length);
        left -= n;
        if (!res.write(n === piece.length ? piece : piece.subarray(0, n))) return void res.once('drain', more);
      }
      if (!res.destroyed) res.end();
    };
    more();
  }

  function send(req: IncomingMessage, res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, status });
    let payload: Buffer = body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(body));
    const out: Record<string, string> = { 'x-elastic-product': 'Elasticsearch', 'content-type': 'application/json', ...headers };
    // With http.compression (default on for plain HTTP) responses are gzipped for clients that accept it.
    if (payload.length > 0 && /gzip/.test(String(req.headers['accept-encoding'] ?? ''))) {
      payload = gzipSync(payload);
      out['content-encoding'] = 'gzip';
    }
    out['content-length'] = String(payload.length);
    res.writeHead(status, out);
    res.end(payload);
  }

  function infoBody(): Source {
    const nine = major >= 9;
    return {
      name: 'es-test-node-1',
      cluster_name: 'docker-cluster',
      cluster_uuid: 'p1oF-7PRQ0eOXmN2Bx8v7A',
      version: {
        number: version,
        build_flavor: 'default',
        build_type: 'docker',
        build_hash: '0c781091a2f57de895a73a1391ff8426c0153c8d',
        build_date: '2025-07-24T15:44:29.466838213Z',
        build_snapshot: false,
        lucene_version: nine ? '10.2.2' : '9.12.2',
        minimum_wire_compatibility_version: nine ? '8.19.0' : '7.17.0',
        minimum_index_compatibility_version: nine ? '8.0.0' : '7.0.0',
      },
      tagline: 'You Know, for Search',
    };
  }

  await start();
  return handle;
}

/** Elasticsearch's error envelope: `{error: {root_cause: [...], type, reason, ...}, status}`. */
function errorBody(status: number, type: string, reason: string, extra: Source = {}): Source {
  return { error: { root_cause: [{ type, reason, ...extra }], type, reason, ...extra }, status };
}

function securityError(reason: string): Source {
  const header = { 'WWW-Authenticate': ['Basic realm="security", charset="UTF-8"', 'ApiKey'] };
  return errorBody(401, 'security_exception', reason, { header });
}

/** The body Elasticsearch (or its HTTP layer) sends when it refuses a whole request with `status`. */
function wholeRequestError(status: number, path: string): unknown {
  switch (status) {
    case 401:
      return securityError(`unable to authenticate user [elastic] for REST request [${path}]`);
    case 403:
      return errorBody(403, 'security_exception',
        'action [indices:data/write/bulk] is unauthorized for user [logship] with effective roles [viewer]');
    case 404:
      return errorBody(404, 'index_not_found_exception', 'no such index [logs-django-default]',
        { 'resource.type': 'index_or_alias', 'resource.id': 'logs-django-default', index: 'logs-django-default' });
    case 413:
      return undefined; // the HTTP layer answers "413 Request Entity Too Large" with an empty body
    case 429:
      return errorBody(429, 'circuit_breaking_exception',
        '[parent] Data too large, data for [<http_request>] would be [1031779184/983.9mb], which is larger than the limit of [1020054732/972.7mb]',
        { bytes_wanted: 1031779184, bytes_limit: 1020054732, durability: 'TRANSIENT' });
    case 503:
      return errorBody(503, 'cluster_block_exception', 'blocked by: [SERVICE_UNAVAILABLE/2/no master];');
    default:
      return errorBody(status, 'exception', `injected failure ${status}`);
  }
}

function uuidFor(index: string): string {
  return Buffer.from(index).toString('base64url').padEnd(22, 'A').slice(0, 22);
}

function globMatch(pattern: string, name: string): boolean {
  const re = new RegExp('^' + pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$');
  return re.test(name);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * Elasticsearch's response filtering (`filter_path=errors,items.*.status`): only the fields the comma-separated paths
 * name are kept, `*` standing for any one key; arrays are filtered element by element, and objects left empty are
 * dropped, as Elasticsearch does.
 */
export function filterPath(value: unknown, filter: string): unknown {
  return keep(value, filter.split(',').map((p) => p.split('.')));
}

function keep(value: unknown, paths: string[][]): unknown {
  if (Array.isArray(value)) return value.map((v) => keep(v, paths)).filter((v) => v !== undefined);
  if (value === null || typeof value !== 'object') return undefined;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const rest = paths.filter((p) => p[0] === '*' || p[0] === key).map((p) => p.slice(1));
    if (rest.length === 0) continue;
    const kept = rest.some((p) => p.length === 0) ? v : keep(v, rest);
    if (kept !== undefined) out[key] = kept;
  }
  return Object.keys(out).length === 0 ? undefined : out;
}
