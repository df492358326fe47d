import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { Socket } from 'node:net';

/**
 * An HTTP server on 127.0.0.1 that a test can stop (clients get connection refused, and keep-alive sockets the
 * client would otherwise reuse are cut) and start again on the same port: a sink outage on demand.
 */
export interface LoopbackHttp {
  /** The port, fixed by the first start (0 at construction picks a free one). */
  readonly port: number;
  readonly url: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function loopbackHttp(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  initialPort = 0,
  /** Serve HTTPS with this PEM key and certificate (a cluster with TLS, as Elasticsearch 8 has by default). */
  tls?: { key: string; cert: string },
): LoopbackHttp {
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  let port = initialPort;
  return {
    get port() {
      return port;
    },
    get url() {
      return `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
    },
    async start() {
      if (server) return;
      const s: Server = tls ? createTlsServer(tls, handler) : createServer(handler);
      s.on('connection', (socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
      });
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(port, '127.0.0.1', () => resolve());
      });
      const addr = s.address();
      if (addr && typeof addr === 'object') port = addr.port;
      server = s;
    },
    async stop() {
      const s = server;
      if (!s) return;
      server = null;
      const closed = new Promise<void>((resolve) => s.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      await closed;
    },
  };
}
