/**
 * The `monitoring.listen` address: `host:port`, with an IPv6 host in brackets (`[::1]:9600`). Port 0 asks the
 * system for a free port (tests); the agent logs the address it got.
 */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

const LISTEN_RE = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:[\]]+)):(\d{1,5})$/;

/** The address, or the problem with it as one line. */
export function parseListen(text: string): ListenAddress | string {
  const m = LISTEN_RE.exec(text.trim());
  if (!m) return `expected host:port (e.g. 127.0.0.1:9600, 0.0.0.0:9600 or [::1]:9600), got ${JSON.stringify(text)}`;
  const port = Number(m[3]);
  if (port > 65_535) return `port must be between 0 and 65535, got ${port}`;
  return { host: m[1] ?? m[2] ?? '', port };
}

/** `host:port` for logs and URLs, brackets around an IPv6 host. */
export function formatListen(address: ListenAddress): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}
