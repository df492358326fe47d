/**
 * The Elasticsearch sink: one `_bulk` request per batch through the official client (8.19, which talks to
 * Elasticsearch 8 and, through REST API compatibility headers `compatible-with=8`, to Elasticsearch 9).
 *
 * The client does no retrying (`maxRetries: 0`): core owns backoff, and a send answers once with a SendResult.
 * With several nodes, a node that fails is marked dead by the client's weighted pool and the next send (core's
 * retry) goes to another: failover costs one backoff step.
 *
 * https://www.elastic.co/docs/api/doc/elasticsearch/operation/operation-bulk
 */
// First: the client must find apache-arrow deferred when it loads (see lazy-arrow.ts).
import './lazy-arrow.js';
import { readFileSync } from 'node:fs';
import type { ClientOptions } from '@elastic/elasticsearch';
import { elasticsearch } from './client-module.js';
import type { Batch, ItemFraming, SendResult, Sink, SinkDeps } from '../../src/sink.js';
import type { ElasticsearchSinkConfig } from './config.js';
import { BodyBuffers, bulkItemFraming, bulkPath, encodeBulk } from './encode.js';
import { BulkAwareSerializer } from './serializer.js';
import { BoundedConnection, MAX_RESPONSE_BYTES } from './connection.js';
import { classifyBulkResponse, classifyClientError, classifyHttpFailure } from './classify.js';
import { ensureTemplate } from './template.js';


const { Client, errors } = elasticsearch;
/**
 * Only what classification reads: `filter_path` keeps a 10,000-item response to statuses and errors.
 * https://www.elastic.co/docs/reference/elasticsearch/rest-apis/common-options (response filtering)
 */
export const BULK_FILTER_PATH = 'errors,items.*.status,items.*.error';

/** Every 4xx and 5xx status: answered as a response by the transport, classified here (see clientOptions). */
const HTTP_ERROR_STATUSES = Array.from({ length: 200 }, (_, i) => 400 + i);

/**
 * Throws only for configuration it cannot use (an unreadable tls.ca, a malformed node URL), so that `logship check`
 * reports it; delivery problems are SendResults.
 */
export function createElasticsearchSink(config: ElasticsearchSinkConfig, deps: SinkDeps): Sink {
  const { logger } = deps;
  const client = new Client(clientOptions(config));
  const bodies = new BodyBuffers();

  return {
    name: 'elasticsearch',
    deduplicates: true, // `create` with the record's id: a record sent again is answered 409

    async start(): Promise<SendResult> {
      try {
        const info = await client.info();
        const version = info.version.number;
        const major = Number(version.split('.')[0]);
        if (major < 8) {
          return { kind: 'fatal', reason: `Elasticsearch ${version} is not supported: logship needs 8.x or 9.x` };
        }
        if (major > 9) logger.warn('Elasticsearch version newer than tested (8.x, 9.x)', { version });
        logger.info('connected to Elasticsearch', { version, cluster: info.cluster_name, nodes: config.nodes.map(redactUrl) });
      } catch (err) {
        // GET / needs the `monitor` cluster privilege, which a write-only API key rightly lacks: not a reason to stop.
        if (!(err instanceof errors.ResponseError && err.meta.statusCode === 403)) return classifyClientError(err, 0);
        logger.warn('not allowed to read the cluster version (GET /); continuing', { nodes: config.nodes.map(redactUrl) });
      }
      return ensureTemplate(client, config, logger);
    },

    // The parse thread writes each document as its `_bulk` item (encode.ts): a body is then a few large copies.
    itemFraming(idPrefix: string): ItemFraming {
      return bulkItemFraming(idPrefix);
    },

    async send(batch: Batch): Promise<SendResult> {
      const n = batch.size;
      if (n === 0) return { kind: 'delivered' };
      // A Buffer body is sent as it is: the transport only serialises arrays and objects (`bulkBody`).
      const { body: bulkBody, buffer } = encodeBulk(batch, bodies);
      try {
        const response = await client.transport.request(
          { method: 'POST', path: bulkPath(config.index), querystring: { filter_path: BULK_FILTER_PATH }, bulkBody, meta: { name: 'bulk' } },
          { meta: true, ignore: HTTP_ERROR_STATUSES },
        );
        if (response.statusCode !== null && response.statusCode >= 400) {
          // Not reused: an early answer (413, 401) may come before the socket is done with the body.
          return classifyHttpFailure(response.statusCode, response.body, response.headers ?? {}, n);
        }
        // A _bulk answer comes after the whole body was read (every item has a status): the buffer is free again.
        bodies.give(buffer);
        const result = classifyBulkResponse(response.body, n);
        if (result.kind !== 'delivered') logger.debug('bulk answered with item failures', { kind: result.kind, reason: result.reason });
        return result;
      } catch (err) {
        return classifyClientError(err, n);
      }
    },

    async close(): Promise<void> {
      await client.close();
    },
  };
}

/**
 * TLS as configured: verified against the system's CAs, or tls.ca; `verify: false` alone checks nothing at all;
 * `verify: false` with tls.ca still requires a certificate signed by that CA, and skips only the host name check (as
 * Beats' `verification_mode: certificate`: a cluster whose certificate names another host). Both warn at start.
 */
export function tlsOptions(config: ElasticsearchSinkConfig['tls']): NonNullable<ClientOptions['tls']> {
  const tls: NonNullable<ClientOptions['tls']> = { rejectUnauthorized: config.verify || config.ca !== undefined };
  if (config.ca !== undefined) {
    try {
      tls.ca = readFileSync(config.ca);
    } catch (err) {
      throw new Error(`sink.tls.ca: cannot read ${config.ca}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    if (!config.verify) tls.checkServerIdentity = () => undefined;
  }
  return tls;
}

function clientOptions(config: ElasticsearchSinkConfig): ClientOptions {
  const tls = tlsOptions(config.tls);
  return {
    nodes: config.nodes,
    ...(config.auth ? { auth: config.auth } : {}),
    tls,
    // The 8.19 client takes a boolean here (its transport tests `=== true`); a string like 'gzip' would be ignored.
    compression: config.compression,
    maxRetries: 0,
    requestTimeout: config.requestTimeoutMs,
    // Keep-alive is the undici connection pool's default; no sniffing: nodes may sit behind a load balancer.
    sniffOnStart: false,
    sniffInterval: false,
    // Error metadata: drop headers and connection details rather than deep-copy everything with secrets replaced
    // ('replace', the default). The copy walks the request body too, and a 1 MB Buffer body became ~1M entries:
    // 60 MB of garbage and a second of CPU on every timed-out bulk request (found by the benchmark's backlog mode).
    // Bulk requests ask the transport to return HTTP errors as responses (`ignore`), so their headers (Retry-After)
    // are read there, with no error object at all. Credentials never reach logs: the sink logs reasons only.
    redaction: { type: 'remove' },
    Serializer: BulkAwareSerializer,
    // Every answer is read whole before it is parsed: bounded, and a larger one is a failure to retry (connection.ts).
    Connection: BoundedConnection,
    maxResponseSize: MAX_RESPONSE_BYTES,
    maxCompressedResponseSize: MAX_RESPONSE_BYTES,
  };
}

/** A node URL for logs: credentials in the URL (https://user:pass@host) never reach them. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = '';
      u.password = '';
    }
    return u.toString();
  } catch {
    return '(invalid URL)';
  }
}
