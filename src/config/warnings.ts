/**
 * What a valid config may still do that the operator should hear about: security settings that weaken the
 * connection to the sink. `check` prints each (exit 0 all the same); `run` logs each once at start.
 */
import type { Config } from './types.js';
import { isLoopback } from '../../sinks/cloud-logging/config.js';

export interface ConfigWarning {
  /** The key it is about, as in errors: `sink.tls.verify`. */
  readonly key: string;
  readonly message: string;
}

export function securityWarnings(config: Pick<Config, 'sink'>): ConfigWarning[] {
  const sink = config.sink;
  if (sink.type !== 'elasticsearch') return [];
  const warnings: ConfigWarning[] = [];
  const https = sink.nodes.some((n) => n.startsWith('https:'));
  if (!sink.tls.verify && https) {
    warnings.push(
      sink.tls.ca === undefined
        ? {
            key: 'sink.tls.verify',
            message:
              "false: the server's certificate is not checked at all (neither who signed it nor its host name): whoever is between logship and Elasticsearch can read the records and the credentials; give tls.ca instead",
          }
        : {
            key: 'sink.tls.verify',
            message: `false with tls.ca: the certificate must be signed by ${sink.tls.ca}, but its host name is not checked`,
          },
    );
  }
  if (sink.auth !== undefined) {
    const what = 'apiKey' in sink.auth ? 'the API key (sink.auth.api_key)' : 'the password (sink.auth.password)';
    for (const node of sink.nodes) {
      const url = new URL(node); // validated by the schema
      if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
        warnings.push({ key: 'sink.auth', message: `${what} is sent unencrypted over http:// to ${url.host}; use https://` });
      }
    }
  }
  return warnings;
}
