/**
 * The config file format (YAML, after `${VAR}` interpolation): every key, its default and its validation, in
 * one place. Unknown keys are refused at every level. The parsed result still uses the file's snake_case
 * names (durations already in milliseconds); build.ts turns it into the `Config` the agent uses.
 *
 * Relative paths (data_dir, inputs[].paths, inputs[].exclude patterns containing a `/`, sink.tls.ca,
 * sink.path) are resolved against the directory of the config file, not the working directory.
 * Durations: a number of milliseconds, or "<number><unit>" with unit ms|s|m|h ("500ms", "1.5s", "5m").
 * Numbers and booleans may be given as strings ("9200", "true"), which is what `${VAR}` produces.
 * A key with an empty value (`tls:` and nothing after) counts as not given.
 */
import { hostname } from 'node:os';
import { z } from 'zod';
import { show, showText } from './errors.js';
import {
  boolean,
  duration,
  fileMode,
  httpUrl,
  integer,
  mapping,
  nonEmptyString,
  oneOf,
  secretString,
  stringList,
  timeZone,
} from './fields.js';
import { formatDuration } from './duration.js';
import { parseListen } from '../monitoring/listen.js';
import { MATCH_KEYS } from '../containers/filter.js';
import { compileFormat, FORMAT_STYLES, FormatterError } from '../parse/formatter/index.js';
import { isValidTimezone } from '../parse/time.js';
import { cloudwatchSinkSchema } from '../../sinks/cloudwatch/config.js';
import { cloudLoggingSinkSchema } from '../../sinks/cloud-logging/config.js';

export const START_AT = ['beginning', 'end'] as const;
export const INPUT_TYPES = ['django', 'docker', 'cri'] as const;
export const SINK_TYPES = ['elasticsearch', 'cloudwatch', 'cloud_logging', 'file', 'stdout'] as const;

/** The zone of the machine the agent runs on, the default for inputs[].timezone. */
export function localTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/** One entry of inputs[].containers.include/exclude: every key it gives must match (see src/containers/filter.ts). */
const containerMatchSchema = mapping(
  {
    /** docker: the container's name (without the leading "/"), a glob. */
    name: nonEmptyString().optional(),
    /** docker: the image reference as written (`docker.elastic.co/elasticsearch/elasticsearch:8.19.0`) or its name, a glob. */
    image: nonEmptyString().optional(),
    /** docker: "key=value glob", or "key" (the label is set). */
    label: nonEmptyString().optional(),
    /** cri: the Kubernetes namespace, a glob. */
    namespace: nonEmptyString().optional(),
    /** cri: the pod name, a glob. */
    pod: nonEmptyString().optional(),
    /** cri: the Kubernetes container name, a glob. */
    container: nonEmptyString().optional(),
  },
  'a containers entry',
);

const containersSchema = mapping(
  {
    /** Default []: ship only containers matching one of these (none: every container). */
    include: z.array(containerMatchSchema, { error: listError('containers entries') }).default([]),
    /** Default []: never ship containers matching one of these; their files are not opened. */
    exclude: z.array(containerMatchSchema, { error: listError('containers entries') }).default([]),
    /**
     * docker only. Default [com.docker.compose.project, com.docker.compose.service]: globs of the label keys written
     * to container.labels (each distinct key is a field in Elasticsearch: keep the set small).
     */
    labels: stringList('label keys or globs', { acceptSingle: true }).optional(),
  },
  'inputs[].containers',
);

const inputFields = mapping(
  {
    /** Required: django | docker (Docker's json-file logs, `<container-id>-json.log`) | cri (containerd/CRI-O, /var/log/pods). */
    type: oneOf(INPUT_TYPES),
    /** Required, non-empty: files to follow; globs allowed (`logs/*.log`; `**` crosses directories). A lone string counts as a list of one. */
    paths: stringList('paths or globs', { min: 1, acceptSingle: true }),
    /** Default []: globs of files to skip, matched against the full path and against the basename (`*.gz`). */
    exclude: stringList('globs', { acceptSingle: true }).default([]),
    /** Default: the agent's local zone. IANA zone of timestamps written without an offset (Django's asctime). */
    timezone: timeZone().default(localTimeZone),
    /** Default: the top-level start_at. Where to start in a file seen for the first time. */
    start_at: oneOf(START_AT).optional(),
    /** Default false: keep the raw text of each record in event.original. */
    include_original: boolean().default(false),
    /**
     * Default false: a symbolic link at a matched path (or a linked directory under `**`) is not followed. true: it is,
     * when its target lies under one of symlink_roots (Kubernetes' /var/log/containers links).
     */
    follow_symlinks: boolean().default(false),
    /**
     * With follow_symlinks: directories a link may lead into. Default: the directories the config's input patterns
     * start from (every input's), e.g. /var/log/pods for a /var/log/pods/** input.
     */
    symlink_roots: stringList('directories', { acceptSingle: true }).optional(),
    /** docker and cri only. Default: every container, the compose labels. Which containers to ship; see containersSchema. */
    containers: containersSchema.optional(),
    /**
     * Optional, django inputs: the Formatter string of the handler writing the files, as in settings.py's
     * LOGGING['formatters'][…]['format'] (quote it in YAML). Without it the common layouts are detected per file.
     */
    format: nonEmptyString().optional(),
    /** Default "%" (with format): the Formatter's style, "%", "{" or "$". */
    style: oneOf(FORMAT_STYLES).optional(),
    /** Default Python's "%Y-%m-%d %H:%M:%S,mmm" (with format): the Formatter's datefmt, a time.strftime format. */
    datefmt: nonEmptyString().optional(),
  },
  'an input',
);

const inputSchema = inputFields.superRefine((input, ctx) => {
  checkContainers(input, ctx);
  checkFormatter(input, ctx);
});

type InputFields = z.output<typeof inputFields>;
type Refinement = z.core.$RefinementCtx;

/** containers: for docker and cri inputs only, each entry with the keys of its input type. */
function checkContainers(input: InputFields, ctx: Refinement): void {
  const c = input.containers;
  if (c === undefined) return;
  if (input.type === 'django') {
    ctx.addIssue({ code: 'custom', path: ['containers'], message: 'only docker and cri inputs have containers' });
    return;
  }
  const keys: readonly string[] = MATCH_KEYS[input.type];
  for (const list of ['include', 'exclude'] as const) {
    c[list].forEach((entry, i) => {
      const given = Object.keys(entry).filter((k) => entry[k as keyof typeof entry] !== undefined);
      if (given.length === 0) {
        ctx.addIssue({ code: 'custom', path: ['containers', list, i], message: `give at least one of ${keys.join(', ')}` });
      }
      for (const key of given) {
        if (!keys.includes(key)) {
          ctx.addIssue({ code: 'custom', path: ['containers', list, i, key], message: `not a key of ${input.type} containers (use ${keys.join(', ')})` });
        }
      }
      if (entry.label !== undefined && (entry.label.startsWith('=') || entry.label.trim() === '')) {
        ctx.addIssue({ code: 'custom', path: ['containers', list, i, 'label'], message: `expected "key=value" or "key", got ${show(entry.label)}` });
      }
    });
  }
  if (c.labels !== undefined && input.type !== 'docker') {
    ctx.addIssue({ code: 'custom', path: ['containers', 'labels'], message: 'only docker containers have labels' });
  }
}

/** format, style, datefmt: compiled here exactly as the parser compiles them, so `check` refuses what it could not read. */
function checkFormatter(input: InputFields, ctx: Refinement): void {
  if (input.format === undefined) {
    for (const key of ['style', 'datefmt'] as const) {
      if (input[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: 'only with format (the Formatter string it belongs to)' });
    }
    return;
  }
  if (input.type !== 'django') {
    ctx.addIssue({ code: 'custom', path: ['format'], message: 'only for type django inputs' });
    return;
  }
  if (!isValidTimezone(input.timezone)) return; // reported as inputs[i].timezone
  // Compiled here exactly as the parser compiles it, so `logship check` refuses what could not be read.
  try {
    compileFormat({ format: input.format, style: input.style ?? '%', datefmt: input.datefmt ?? null }, input.timezone);
  } catch (err) {
    if (!(err instanceof FormatterError)) throw err;
    ctx.addIssue({ code: 'custom', path: [err.key], message: `${showText((err.key === 'format' ? input.format : input.datefmt) ?? '')} ${err.message}` });
  }
}

const authSchema = mapping(
  {
    /** With password: HTTP basic authentication. */
    username: nonEmptyString().optional(),
    /** With username. Write it as "${ES_PASSWORD}" rather than in the file. */
    password: secretString().optional(),
    /** Instead of username/password: an Elasticsearch API key (the base64 "id:key" form), e.g. "${ES_API_KEY}". */
    api_key: secretString().optional(),
  },
  'sink.auth',
).superRefine((auth, ctx) => {
  const basic = auth.username !== undefined || auth.password !== undefined;
  if (auth.api_key !== undefined && basic) {
    ctx.addIssue({ code: 'custom', path: [], message: 'use either username and password, or api_key, not both' });
  } else if (auth.api_key === undefined && auth.username === undefined) {
    ctx.addIssue({ code: 'custom', path: ['username'], message: 'required (with password), or give api_key instead' });
  } else if (auth.api_key === undefined && auth.password === undefined) {
    ctx.addIssue({ code: 'custom', path: ['password'], message: 'required (with username)' });
  }
});

const tlsSchema = mapping(
  {
    /** Optional: a PEM file of the CA(s) that signed the cluster's certificate; must be readable. */
    ca: nonEmptyString().optional(),
    /** Default true (also without a tls block): verify the server certificate. */
    verify: boolean().default(true),
  },
  'sink.tls',
);

const elasticsearchSinkSchema = mapping(
  {
    type: z.literal('elasticsearch'),
    /** One http(s) URL, e.g. http://127.0.0.1:9200. Exactly one of node and nodes. */
    node: httpUrl().optional(),
    /** Several http(s) URLs of the same cluster. Exactly one of node and nodes. */
    nodes: z.array(httpUrl(), { error: listError('http(s) URLs') }).min(1, { error: listError('http(s) URLs') }).optional(),
    /** Default logs-django-default: the index or data stream written to. */
    index: nonEmptyString().default('logs-django-default'),
    /** Default true: write with op_type create, as data streams require. */
    data_stream: boolean().default(true),
    /** Optional: { username, password } or { api_key }. */
    auth: authSchema.optional(),
    /** Default { verify: true }. */
    tls: tlsSchema.prefault({}),
    /** Default false: gzip request bodies. */
    compression: boolean().default(false),
    /** Default 30s: time limit of one bulk request. */
    request_timeout: duration().default(30_000),
  },
  'sink type elasticsearch',
).superRefine((sink, ctx) => {
  if (sink.node !== undefined && sink.nodes !== undefined) {
    ctx.addIssue({ code: 'custom', path: [], message: 'give either node or nodes, not both' });
  } else if (sink.node === undefined && sink.nodes === undefined) {
    ctx.addIssue({ code: 'custom', path: ['node'], message: 'required (or nodes: [url, ...])' });
  }
});

const fileSinkSchema = mapping(
  {
    type: z.literal('file'),
    /** Required: the NDJSON file written, one event per line. */
    path: nonEmptyString(),
    /** Default 104857600 (100 MiB): size at which the file is rotated. */
    max_bytes: integer(1).default(104_857_600),
    /** Default 5: rotated files kept (path.1 … path.N). */
    max_files: integer(1).default(5),
    /** Default "0640": permissions of the files the sink creates (octal, quoted); the owner writes, its group reads. */
    mode: fileMode().default(0o640),
  },
  'sink type file',
);

/** Writes NDJSON events to standard output. */
const stdoutSinkSchema = mapping({ type: z.literal('stdout') }, 'sink type stdout');

const sinkSchema = z.discriminatedUnion('type', [elasticsearchSinkSchema, cloudwatchSinkSchema, cloudLoggingSinkSchema, fileSinkSchema, stdoutSinkSchema], {
  error: (iss) => {
    if (iss.code === 'invalid_union') {
      const type = (iss.input as { type?: unknown } | undefined)?.type;
      return type === undefined
        ? `required (one of: ${SINK_TYPES.join(', ')})`
        : `unknown sink type ${show(type)} (expected one of: ${SINK_TYPES.join(', ')})`;
    }
    return iss.input === undefined ? 'required' : `expected a mapping, got ${show(iss.input)}`;
  },
});

const batchSchema = mapping(
  {
    /** Default 1000: events per batch at most. */
    max_events: integer(1).default(1000),
    /** Default 5242880 (5 MiB): approximate bytes per batch at most. */
    max_bytes: integer(1).default(5_242_880),
    /** Default 1000: a batch that is not full is sent after this many milliseconds. */
    flush_interval_ms: integer(1).default(1000),
  },
  'batch',
);

const retrySchema = mapping(
  {
    /** Default 500ms: first wait before a retry; doubles each attempt, with jitter. */
    initial_backoff: duration().default(500),
    /** Default 30s: the longest wait between attempts. */
    max_backoff: duration().default(30_000),
    /** Default 0 = retry forever: attempts before a batch goes to the dead letters. */
    max_attempts: integer(0).default(0),
  },
  'delivery.retry',
).superRefine((retry, ctx) => {
  if (retry.max_backoff < retry.initial_backoff) {
    ctx.addIssue({
      code: 'custom',
      path: ['max_backoff'],
      message: `must be at least initial_backoff (${formatDuration(retry.initial_backoff)}), got ${formatDuration(retry.max_backoff)}`,
    });
  }
});

const deliverySchema = mapping(
  {
    /** Default 4, 1..64: batches sent at the same time (measured: 4 keeps a catching-up agent from waiting on the sink). */
    concurrency: integer(1, 64).default(4),
    /** Default 8: batches queued or in flight before reading pauses; at least concurrency. */
    max_pending_batches: integer(1).default(8),
    /** Default { initial_backoff: 500ms, max_backoff: 30s, max_attempts: 0 }. */
    retry: retrySchema.prefault({}),
  },
  'delivery',
).superRefine((delivery, ctx) => {
  if (delivery.max_pending_batches < delivery.concurrency) {
    ctx.addIssue({
      code: 'custom',
      path: ['max_pending_batches'],
      message: `must be at least concurrency (${delivery.concurrency}), got ${delivery.max_pending_batches}`,
    });
  }
});

/** `host:port` of the monitoring server; see src/monitoring/listen.ts. */
const listenAddress = () =>
  nonEmptyString().superRefine((text, ctx) => {
    const parsed = parseListen(text);
    if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', path: [], message: parsed });
  });

const deadLettersSchema = mapping(
  {
    /** Default 1073741824 (1 GiB): bytes all dead-letter files may hold together; beyond it the oldest file is dropped (counted, logged). */
    max_bytes: integer(1024).default(1_073_741_824),
    /** Default 8, 1..1000: files the dead letters are split into (dead_letters.ndjson, .1 … .7); the current one rotates at max_bytes / max_files. */
    max_files: integer(1, 1000).default(8),
  },
  'dead_letters',
);

const monitoringSchema = mapping(
  {
    /** Default true: serve /health and /metrics while `run` follows files (not with --once). */
    enabled: boolean().default(true),
    /** Default 127.0.0.1:9600 (loopback): host:port; 0.0.0.0:9600 in a container, port 0 = any free port. */
    listen: listenAddress().default('127.0.0.1:9600'),
    /** Default 30000: sink failing, or reading stalled with data waiting, this long → /health answers 503. */
    unhealthy_after_ms: integer(1).default(30_000),
  },
  'monitoring',
);

export const configSchema = mapping(
  {
    /** Default ./data: the registry (checkpoints) and dead letters. */
    data_dir: nonEmptyString().default('./data'),
    /** Default: os.hostname(). Written as host.name in every event. */
    host_name: nonEmptyString().default(() => hostname()),
    /** Default beginning: beginning | end, where to start in files seen for the first time. */
    start_at: oneOf(START_AT).default('beginning'),
    /** Default 1048576 (1 MiB), integer >= 1024: longer lines are cut to this size. */
    max_line_bytes: integer(1024).default(1_048_576),
    /** Default 1024: file descriptors kept open at most. */
    max_open_files: integer(1).default(1024),
    /** Default 5s: a last line without a newline is shipped after this long without growth. */
    partial_line_timeout: duration().default(5_000),
    /** Default 2s: a multi-line record (a traceback) waits this long for more lines. */
    multiline_timeout: duration().default(2_000),
    /** Default 1s: glob re-scan and rotation check. */
    scan_interval: duration().default(1_000),
    /** Default 5m: an idle file's descriptor is closed (and reopened when the file changes). */
    close_inactive: duration().default(300_000),
    /** Default 5s: a renamed or deleted file read to its end is let go after this long without growth. */
    rotate_wait: duration().default(5_000),
    /** Default false: poll instead of inotify (NFS, some overlay file systems). */
    use_polling: boolean().default(false),
    /** Default 1s: how often changed checkpoints are written. */
    checkpoint_interval: duration().default(1_000),
    /** Default 30s: bound on the final flush at SIGTERM. */
    shutdown_timeout: duration().default(30_000),
    /** Required, at least one. */
    inputs: z.array(inputSchema, { error: listError('inputs') }).min(1, { error: listError('inputs') }),
    /** Required: elasticsearch | cloudwatch | cloud_logging | file | stdout. */
    sink: sinkSchema,
    /** Default { max_events: 1000, max_bytes: 5242880, flush_interval_ms: 1000 }. */
    batch: batchSchema.prefault({}),
    /** Default { concurrency: 4, max_pending_batches: 8, retry: {…} }. */
    delivery: deliverySchema.prefault({}),
    /** Default { enabled: true, listen: 127.0.0.1:9600, unhealthy_after_ms: 30000 }. */
    monitoring: monitoringSchema.prefault({}),
    /** Default { max_bytes: 1073741824, max_files: 8 }: the bound on data_dir/dead_letters.ndjson and its rotated files. */
    dead_letters: deadLettersSchema.prefault({}),
  },
  'the top level',
);

/** The file's content once validated: snake_case keys, defaults filled, durations in milliseconds. */
export type ConfigFile = z.output<typeof configSchema>;

function listError(what: string) {
  return (iss: { input?: unknown }): string =>
    iss.input === undefined ? 'required' : `expected a non-empty list of ${what}, got ${show(iss.input)}`;
}
