/**
 * The gRPC client: @google-cloud/logging's generated `v2.LoggingServiceV2Client`, called directly.
 *
 * Why not `Logging#log(...).write()`: `Log#write` adds a diagnostic entry of its own on its first write, and the
 * generated client retries UNAVAILABLE, DEADLINE_EXCEEDED and INTERNAL by itself for up to 10 minutes
 * (logging_service_v2_client_config.json). Here exactly the entries the sink sends are written, each call is made
 * once (its retry codes are overridden to none), and core owns backoff, dead letters and checkpoints.
 *
 * Credentials: a key file (`key_filename`) or Application Default Credentials, scoped to logging.write. With
 * `insecure` (a loopback endpoint only, enforced by the config) the channel is plaintext and the auth client is a
 * PassThroughClient, which adds no headers and never looks for credentials or a metadata server.
 */
import * as grpc from '@grpc/grpc-js';
import { Logging, v2 } from '@google-cloud/logging';
import { PassThroughClient } from 'google-auth-library';
import type { CloudLoggingResource, CloudLoggingSinkConfig } from './config.js';
import type { LogEntryMessage } from './entry.js';

/** The client's own timeout for WriteLogEntries (timeout_millis in its client config). */
export const REQUEST_TIMEOUT_MS = 60_000;
const SERVICE = 'google.logging.v2.LoggingServiceV2';
const WRITE_SCOPE = 'https://www.googleapis.com/auth/logging.write';
const DEFAULT_ENDPOINT = 'logging.googleapis.com:443';

/**
 * Client config override (the structure of the generated *_client_config.json): WriteLogEntries with an empty set
 * of retry codes, so the client makes one attempt and reports.
 */
const NO_RETRIES = {
  interfaces: {
    [SERVICE]: {
      retry_codes: { none: [] },
      methods: { WriteLogEntries: { timeout_millis: REQUEST_TIMEOUT_MS, retry_codes_name: 'none', retry_params_name: 'default' } },
    },
  },
};

export interface WriteRequest {
  readonly entries: readonly LogEntryMessage[];
  readonly partialSuccess: boolean;
  readonly dryRun?: boolean;
}

/** What the sink needs of the API. Errors are the client's (google-gax GoogleError), for classify.ts. */
export interface LoggingClient {
  /** host:port, for messages. */
  readonly endpoint: string;
  write(request: WriteRequest): Promise<void>;
  /** From the credentials or the environment (GOOGLE_CLOUD_PROJECT, the key file, gcloud, the metadata server). */
  projectId(): Promise<string>;
  /** The monitored resource of where the agent runs (GCE, GKE, Cloud Run…), else `global`. Reads metadata. */
  detectResource(projectId: string): Promise<CloudLoggingResource>;
  close(): Promise<void>;
}

/** The part of the generated client used here (the package types `v2` as any). */
interface GapicClient {
  initialize(): Promise<unknown>;
  writeLogEntries(request: WriteRequest, options: { timeout: number }): Promise<unknown>;
  getProjectId(): Promise<string>;
  close(): Promise<void>;
}

export function createLoggingClient(config: CloudLoggingSinkConfig): LoggingClient {
  const where = config.apiEndpoint;
  const options: Record<string, unknown> = {
    fallback: false, // gRPC, not REST
    clientConfig: NO_RETRIES,
    ...(where && { apiEndpoint: where.host, port: where.port }),
    ...(config.projectId !== undefined && { projectId: config.projectId }),
  };
  if (config.insecure) {
    options['sslCreds'] = grpc.credentials.createInsecure();
    options['authClient'] = new PassThroughClient();
  } else {
    options['scopes'] = [WRITE_SCOPE];
    if (config.keyFilename !== undefined) options['keyFilename'] = config.keyFilename;
  }
  const client = new v2.LoggingServiceV2Client(options) as GapicClient;
  const endpoint = where ? `${where.host}:${where.port}` : DEFAULT_ENDPOINT;

  return {
    endpoint,
    async write(request) {
      // The generated methods start with `this.initialize().catch((err) => { throw err; })`: when the stub cannot be
      // made (no credentials found), that re-throw is a rejection nobody handles, which ended the agent's thread
      // (exit 1 instead of the documented 2). Awaited here first, the failure is this call's, handled by the sink.
      await client.initialize();
      await client.writeLogEntries(request, { timeout: REQUEST_TIMEOUT_MS });
    },
    projectId: () => client.getProjectId(),
    async detectResource(projectId) {
      // @google-cloud/logging's own detection (GCE, GKE, Cloud Run, App Engine, Cloud Functions; else global).
      const logging = new Logging({
        projectId,
        ...(config.keyFilename !== undefined && { keyFilename: config.keyFilename }),
      });
      await logging.setDetectedResource();
      const found = logging.detectedResource as { type?: unknown; labels?: Record<string, unknown> } | undefined;
      const labels: Record<string, string> = {};
      for (const [k, v] of Object.entries(found?.labels ?? {})) if (typeof v === 'string' && v !== '') labels[k] = v;
      return { type: typeof found?.type === 'string' && found.type !== '' ? found.type : 'global', labels };
    },
    close: () => client.close(),
  };
}
