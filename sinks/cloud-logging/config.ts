/**
 * The Cloud Logging sink's config: the YAML keys (`sink.type: cloud_logging`), their defaults and validation, and the
 * validated shape the sink takes. src/config/schema.ts puts `cloudLoggingSinkSchema` in its union of sink types and
 * build.ts calls `buildCloudLoggingConfig`, so `logship check` and `logship run` validate exactly this.
 *
 * ```yaml
 * sink:
 *   type: cloud_logging
 *   project_id: my-project          # else from the credentials / environment
 *   log_name: django                # LOG_ID; template fields allowed: "{input}"
 *   resource: { type: generic_node, labels: { location: europe-west1, namespace: app, node_id: "{host}" } }
 *   labels: { app: accreditrack }
 *   key_filename: /secrets/sa.json  # else Application Default Credentials
 *   api_endpoint: 127.0.0.1:8085    # host[:port], default logging.googleapis.com:443
 *   insecure: true                  # plaintext gRPC, no credentials: a loopback api_endpoint only
 * ```
 */
import { z } from 'zod';
import { readFileSync } from 'node:fs';
import { ConfigError, describeErrno, show } from '../../src/config/errors.js';
import { boolean, mapping, nonEmptyString } from '../../src/config/fields.js';
import { resolvePattern } from '../../src/config/paths.js';
import { literalText, parseTemplate } from './template.js';

export interface CloudLoggingResource {
  /** A monitored resource type, e.g. generic_node, k8s_container, global. */
  type: string;
  /** Its labels; values may hold template fields. */
  labels: Record<string, string>;
}

export interface CloudLoggingSinkConfig {
  type: 'cloud_logging';
  /** The project written to. Undefined: found at start from the credentials or the environment. */
  projectId?: string;
  /** The LOG_ID, a template (`django`, `{input}`); URL-encoded into `projects/P/logs/LOG_ID` per record. @default 'logship' */
  logName: string;
  /** Undefined: detected at start (GCE, GKE, Cloud Run, App Engine, Cloud Functions metadata), else `global`. */
  resource?: CloudLoggingResource;
  /** Labels of every entry; values may hold template fields. @default {} */
  labels: Record<string, string>;
  /** Absolute path of a service account key (JSON). Undefined: Application Default Credentials. */
  keyFilename?: string;
  /** Where the API is served, host and port. Undefined: logging.googleapis.com:443. */
  apiEndpoint?: { host: string; port: number };
  /** Plaintext gRPC and no credentials; only ever with a loopback apiEndpoint (validated). @default false */
  insecure: boolean;
}

/** https://cloud.google.com/logging/quotas: "Number of labels: 64 per LogEntry", keys 512 B, values 64 KiB. */
export const MAX_LABELS = 64;
const MAX_LABEL_KEY_BYTES = 512;
const MAX_LABEL_VALUE_BYTES = 64 * 1024;
/** LOG_ID: "less than 512 characters", of letters, digits, "/", "_", "-" and "." (LogEntry.log_name in log_entry.proto). */
export const MAX_LOG_ID_CHARS = 511;
export const LOG_ID_CHARS = /^[A-Za-z0-9/_.-]*$/;
export const DEFAULT_PORT = 443;

/**
 * A project ID (https://cloud.google.com/resource-manager/docs/creating-managing-projects): 6 to 30 lowercase letters,
 * digits and hyphens, starting with a letter and not ending with a hyphen; legacy domain-scoped IDs have an
 * `example.com:` prefix.
 */
const PROJECT_ID = /^(?:[a-z][a-z0-9.-]*[a-z0-9]:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
/** Monitored resource types and resource label keys: generic_node, k8s_container, project_id, node_id. */
const RESOURCE_NAME = /^[a-z][a-z0-9_]*$/;

function issue(expectation: string) {
  return (iss: { input?: unknown }): string => (iss.input === undefined ? 'required' : `${expectation}, got ${show(iss.input)}`);
}

function projectId() {
  const error = issue('expected a Google Cloud project ID (6 to 30 lowercase letters, digits and hyphens, starting with a letter)');
  return z.string({ error }).regex(PROJECT_ID, { error });
}

/** The LOG_ID template: its literal text must be valid in a LOG_ID; what fields give is made valid per record. */
function logName() {
  return nonEmptyString().superRefine((text, ctx) => {
    const template = parseTemplate(text);
    if ('problem' in template) return void ctx.addIssue({ code: 'custom', message: template.problem });
    const literal = literalText(template);
    if (!LOG_ID_CHARS.test(literal)) {
      ctx.addIssue({
        code: 'custom',
        message: `may hold only letters, digits, "/", "_", "-", "." and template fields such as {input}, got ${show(text)}`,
      });
    } else if (literal.length > MAX_LOG_ID_CHARS) {
      ctx.addIssue({ code: 'custom', message: `must be less than 512 characters, got ${literal.length}` });
    }
  });
}

function resourceType() {
  const error = issue('expected a monitored resource type such as global, generic_node or k8s_container');
  return z.string({ error }).regex(RESOURCE_NAME, { error });
}

/**
 * A mapping of label names to values. A YAML number or boolean value (`tier: 1`) is taken as its text; values may
 * hold template fields. `keys`: a pattern the names must match (resource labels), with its description.
 */
function labelMap(keys?: { pattern: RegExp; what: string }) {
  const value = z.preprocess(
    (v) => (typeof v === 'number' || typeof v === 'boolean' ? String(v) : v),
    z.string({ error: issue('expected a string') }).superRefine((text, ctx) => {
      const template = parseTemplate(text);
      if ('problem' in template) ctx.addIssue({ code: 'custom', message: template.problem });
      else if (Buffer.byteLength(text) > MAX_LABEL_VALUE_BYTES) ctx.addIssue({ code: 'custom', message: 'a label value is at most 64 KiB' });
    }),
  );
  return z
    .record(z.string(), value, { error: issue('expected a mapping of label names to values') })
    .superRefine((labels, ctx) => {
      const names = Object.keys(labels);
      if (names.length > MAX_LABELS) {
        ctx.addIssue({ code: 'custom', message: `at most ${MAX_LABELS} labels (the Cloud Logging limit per entry), got ${names.length}` });
      }
      for (const name of names) {
        if (name === '' || Buffer.byteLength(name) > MAX_LABEL_KEY_BYTES) {
          ctx.addIssue({ code: 'custom', path: [name], message: 'a label name is 1 to 512 bytes' });
        } else if (keys && !keys.pattern.test(name)) {
          ctx.addIssue({ code: 'custom', path: [name], message: `expected ${keys.what}, got ${show(name)}` });
        }
      }
    });
}

/** `host`, `host:port` or `[v6]:port`, no scheme: the client takes the host and the port separately. */
export function parseEndpoint(text: string): { host: string; port: number } | null {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(text.trim());
  if (!m) return null;
  const port = m[2] === undefined ? DEFAULT_PORT : Number(m[2]);
  if (port < 1 || port > 65535) return null;
  return { host: m[1]!, port };
}

/**
 * `key_filename` must be a Google credentials file: a JSON object with a `type` ("service_account",
 * "authorized_user", "external_account", …). Checked when the config is loaded, so that a file that is not one is a
 * config error naming the key, not a parse error of the client's at start — whose message (V8's JSON.parse quotes
 * the text it could not read) would put part of a private key in the log. Nothing of the contents is ever shown.
 */
export function checkKeyFile(file: string): void {
  const refuse = (why: string): never => {
    throw new ConfigError('sink.key_filename', `${file} is not a JSON service account key (${why}; its contents are not shown)`);
  };
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError('sink.key_filename', `cannot read file ${file}: ${describeErrno(err)}`);
  }
  let key: unknown;
  try {
    key = JSON.parse(text);
  } catch {
    return refuse('it does not parse as JSON');
  }
  if (key === null || typeof key !== 'object' || typeof (key as { type?: unknown }).type !== 'string') {
    refuse('no "type" field');
  }
}

/** Loopback names and addresses: 127.0.0.0/8, ::1, localhost. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  return h === 'localhost' || h === '[::1]' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

function endpoint() {
  const error = issue('expected host:port (e.g. 127.0.0.1:8085 or logging.googleapis.com:443), without a scheme');
  return z.string({ error }).refine((s) => parseEndpoint(s) !== null, { error });
}

export const cloudLoggingSinkSchema = mapping(
  {
    type: z.literal('cloud_logging'),
    /** Optional: the project written to; else from the credentials (key file, ADC) or GOOGLE_CLOUD_PROJECT. */
    project_id: projectId().optional(),
    /** Default logship: the LOG_ID, a template ("django", "{input}"). */
    log_name: logName().default('logship'),
    /** Optional: { type, labels }; label values are templates ("{host}"). Else detected at start, or global. */
    resource: mapping(
      {
        type: resourceType(),
        labels: labelMap({ pattern: RESOURCE_NAME, what: 'a resource label name such as node_id or location' }).default({}),
      },
      'sink.resource',
    ).optional(),
    /** Default {}: labels of every entry, at most 64; values are templates. */
    labels: labelMap().default({}),
    /** Optional: a service account key file (JSON); else Application Default Credentials. */
    key_filename: nonEmptyString().optional(),
    /** Optional: host:port of the API (default logging.googleapis.com:443). */
    api_endpoint: endpoint().optional(),
    /** Default false: plaintext gRPC without credentials, for a local endpoint (loopback api_endpoint) only. */
    insecure: boolean().default(false),
  },
  'sink type cloud_logging',
).superRefine((sink, ctx) => {
  if (!sink.insecure) return;
  const where = sink.api_endpoint === undefined ? undefined : parseEndpoint(sink.api_endpoint);
  if (!where || !isLoopback(where.host)) {
    ctx.addIssue({
      code: 'custom',
      path: ['insecure'],
      message: `plaintext without credentials is only for a loopback api_endpoint (127.0.0.1, ::1, localhost), got ${
        sink.api_endpoint === undefined ? 'no api_endpoint' : show(sink.api_endpoint)
      }`,
    });
  } else if (sink.key_filename !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['key_filename'], message: 'not used with insecure: true (no credentials are sent); remove one of them' });
  } else if (sink.project_id === undefined) {
    ctx.addIssue({ code: 'custom', path: ['project_id'], message: 'required with insecure: true (there are no credentials to find it in)' });
  }
});

/** The sink's section of the validated file (snake_case, defaults filled). */
export type CloudLoggingSinkFile = z.output<typeof cloudLoggingSinkSchema>;

/** From the file's section to the sink's config; `dir` is the config file's directory (key_filename is relative to it). */
export function buildCloudLoggingConfig(sink: CloudLoggingSinkFile, dir: string): CloudLoggingSinkConfig {
  const endpoint = sink.api_endpoint === undefined ? undefined : parseEndpoint(sink.api_endpoint);
  return {
    type: 'cloud_logging',
    ...(sink.project_id !== undefined && { projectId: sink.project_id }),
    logName: sink.log_name,
    ...(sink.resource !== undefined && { resource: { type: sink.resource.type, labels: sink.resource.labels } }),
    labels: sink.labels,
    ...(sink.key_filename !== undefined && { keyFilename: resolvePattern(sink.key_filename, dir) }),
    ...(endpoint && { apiEndpoint: endpoint }),
    insecure: sink.insecure,
  };
}
