/**
 * The monitoring HTTP server (node:http, no framework): GET /health (also /health/, as the app's own endpoint is
 * spelt) and GET /metrics. Bound to loopback by default; in a container it listens on 0.0.0.0 so Prometheus can
 * scrape it from the compose network.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from '../log.js';
import { formatListen, type ListenAddress } from './listen.js';

/** Connections open at once; a new one beyond closes the oldest one not being answered (see startMonitoringServer). */
export const MAX_CONNECTIONS = 32;
/** A request's headers must arrive within this, the whole request within REQUEST_TIMEOUT_MS. */
export const HEADERS_TIMEOUT_MS = 5_000;
export const REQUEST_TIMEOUT_MS = 10_000;
/** An idle kept-alive connection is closed after this. */
export const KEEP_ALIVE_TIMEOUT_MS = 5_000;

export interface MonitoringHandlers {
  /** The /health body and its HTTP status. */
  health(): Promise<{ status: number; body: unknown }>;
  /** The Prometheus text and its content type. */
  metrics(): Promise<{ contentType: string; text: string }>;
  /** /live: is the agent itself alive (its discovery loop goes round), whatever the sink does. */
  live(): { status: number; body: unknown };
}

export interface MonitoringServer {
  /** Where it listens, e.g. http://127.0.0.1:9600 (the real port when 0 was asked for). */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Listen on `address`. A failure to listen (address in use, not assignable) is logged and returns null: the
 * agent's job is shipping logs, and a missing /health is itself visible to Docker, Kubernetes and Prometheus.
 */
export async function startMonitoringServer(
  address: ListenAddress,
  handlers: MonitoringHandlers,
  logger: Logger,
): Promise<MonitoringServer | null> {
  /** Open connections, oldest first, each with whether a request of it is being answered. */
  const connections = new Map<Socket, boolean>();
  const server = createServer(
    {
      // Idle or half-sent requests are closed after these, checked every second (Node's default check is every 30 s).
      headersTimeout: HEADERS_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
      keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
      connectionsCheckingInterval: 1_000,
    },
    (req, res) => {
      const socket = req.socket;
      if (connections.has(socket)) connections.set(socket, true);
      res.once('close', () => {
        if (connections.has(socket)) connections.set(socket, false);
      });
      route(req, res, handlers).catch((err: unknown) => {
        logger.error('monitoring request failed', { path: req.url, error: err });
        if (!res.headersSent) reply(res, req, 500, 'text/plain; charset=utf-8', 'internal error\n');
        else res.destroy();
      });
    },
  );
  // At most MAX_CONNECTIONS: a flood cannot take the descriptors that files, checkpoints and the sink need (issue
  // #13: 320 idle connections under `ulimit -n 300` made checkpoint writes fail with EMFILE). A new connection over
  // the limit makes room by closing the oldest one that is not being answered — idle, or still sending its request,
  // which is what a flood holds — so that a probe's quick request still gets in while the flood goes on; when every
  // connection is being answered, the new one is closed.
  server.on('connection', (socket: Socket) => {
    connections.set(socket, false);
    socket.once('close', () => connections.delete(socket));
    if (connections.size <= MAX_CONNECTIONS) return;
    for (const [other, busy] of connections) {
      if (!busy && other !== socket) return void other.destroy();
    }
    socket.destroy();
  });
  // Not only a request's own timeouts: a connection that sends nothing at all is closed too.
  server.setTimeout(REQUEST_TIMEOUT_MS, (socket) => socket.destroy());
  try {
    await listen(server, address);
  } catch (err) {
    logger.error('monitoring server cannot listen: /health and /metrics are off (set monitoring.listen, or monitoring.enabled: false)', {
      listen: formatListen(address),
      error: err,
    });
    return null;
  }
  server.unref(); // never what keeps the process alive
  const bound = server.address() as AddressInfo;
  const url = `http://${formatListen({ host: bound.address, port: bound.port })}`;
  logger.info('monitoring listening', { url, health: `${url}/health`, metrics: `${url}/metrics` });
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function listen(server: Server, address: ListenAddress): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(address.port, address.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

async function route(req: IncomingMessage, res: ServerResponse, handlers: MonitoringHandlers): Promise<void> {
  const path = (req.url ?? '/').split('?', 1)[0];
  const known = path === '/health' || path === '/health/' || path === '/metrics' || path === '/live';
  if (!known) return reply(res, req, 404, 'text/plain; charset=utf-8', 'not found: try /health, /live or /metrics\n');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    return reply(res, req, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
  }
  if (path === '/metrics') {
    const { contentType, text } = await handlers.metrics();
    return reply(res, req, 200, contentType, text);
  }
  const { status, body } = path === '/live' ? handlers.live() : await handlers.health();
  return reply(res, req, status, 'application/json', JSON.stringify(body) + '\n');
}

function reply(res: ServerResponse, req: IncomingMessage, status: number, contentType: string, body: string): void {
  const payload = Buffer.from(body);
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': payload.length,
    'cache-control': 'no-store',
  });
  res.end(req.method === 'HEAD' ? undefined : payload);
}
