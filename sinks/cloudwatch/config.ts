/**
 * The CloudWatch Logs sink's config: the YAML keys with their defaults and validation (the schema the config
 * loader uses for `sink: { type: cloudwatch }`), and the validated shape the sink takes, nothing else.
 *
 * No key holds a credential: the client takes them from the AWS SDK's default provider chain (environment,
 * shared config and credentials files / AWS_PROFILE, web identity, ECS container and EC2 instance metadata).
 */
import { z } from 'zod';
import { show } from '../../src/config/errors.js';
import { duration, httpUrl, integer, mapping, nonEmptyString, boolean } from '../../src/config/fields.js';
import { groupTemplateProblem, streamTemplateProblem } from './template.js';

/** The retention periods PutRetentionPolicy accepts (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html). */
export const RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

export interface CloudWatchSinkConfig {
  type: 'cloudwatch';
  /** AWS region, e.g. eu-west-1. When absent, the SDK's own lookup (AWS_REGION, the profile's region). */
  region?: string;
  /** Log group name template, e.g. `/accreditrack/{input}`. */
  logGroup: string;
  /** Log stream name template. @default '{host}/{file}' */
  logStream: string;
  /** Create a missing log group (streams are always created when missing). @default true */
  createGroup: boolean;
  /** Retention set with PutRetentionPolicy on a group the sink creates; absent: never expire. */
  retentionDays?: number;
  /** Endpoint URL override (local emulators, VPC interface endpoints). */
  endpoint?: string;
  /** PutLogEvents requests in flight at once, each to a different stream. @default 4 */
  streamConcurrency: number;
  /** Largest event, counted as CloudWatch counts it (message UTF-8 bytes + 26); larger documents are truncated. @default 1048576 */
  maxEventBytes: number;
  /** Time limit of one request. @default 30000 */
  requestTimeoutMs: number;
}

const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

function retentionError(iss: { input?: unknown }): string {
  return iss.input === undefined ? 'required' : `expected one of ${RETENTION_DAYS.join(', ')}, got ${show(iss.input)}`;
}

function template(problem: (t: string) => string | null) {
  return nonEmptyString().superRefine((value, ctx) => {
    let text: string | null;
    try {
      text = problem(value);
    } catch (err) {
      text = (err as Error).message;
    }
    if (text !== null) ctx.addIssue({ code: 'custom', message: text });
  });
}

export const cloudwatchSinkSchema = mapping(
  {
    type: z.literal('cloudwatch'),
    /** Optional: e.g. eu-west-1; default: AWS_REGION, AWS_DEFAULT_REGION or the profile's region. */
    region: nonEmptyString()
      .refine((s) => REGION.test(s), { error: (iss) => `expected an AWS region name like eu-west-1, got ${show(iss.input)}` })
      .optional(),
    /** Required: the log group; fields {host}, {input}, {file}, {container}, {container_name}, {service}, {path} allowed. */
    log_group: template(groupTemplateProblem),
    /** Default "{host}/{file}": the log stream, one per source file; same fields as log_group. */
    log_stream: template(streamTemplateProblem).default('{host}/{file}'),
    /** Default true: create the log group when it is missing. Missing streams are always created. */
    create_group: boolean().default(true),
    /** Optional: retention set on a group the sink creates, one of CloudWatch's periods (1, 3, 5, 7, 14, 30, …). */
    retention_days: z
      .preprocess(
        (v) => (typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : v),
        z.number({ error: retentionError }).refine((n) => (RETENTION_DAYS as readonly number[]).includes(n), { error: retentionError }),
      )
      .optional(),
    /** Optional: http(s) URL replacing the regional endpoint (LocalStack, a VPC endpoint). */
    endpoint: httpUrl().optional(),
    /** Default 4, 1..64: PutLogEvents requests in flight at once; one stream never has two. */
    stream_concurrency: integer(1, 64).default(4),
    /** Default 1048576, 1024..1048576: largest event (message bytes + 26); a larger document is truncated. */
    max_event_bytes: integer(1024, 1_048_576).default(1_048_576),
    /** Default 30s: time limit of one request. */
    request_timeout: duration().default(30_000),
  },
  'sink type cloudwatch',
);

/** From the validated file content to the sink's config. */
export function buildCloudWatchConfig(sink: z.output<typeof cloudwatchSinkSchema>): CloudWatchSinkConfig {
  return {
    type: 'cloudwatch',
    ...(sink.region !== undefined && { region: sink.region }),
    logGroup: sink.log_group,
    logStream: sink.log_stream,
    createGroup: sink.create_group,
    ...(sink.retention_days !== undefined && { retentionDays: sink.retention_days }),
    ...(sink.endpoint !== undefined && { endpoint: sink.endpoint }),
    streamConcurrency: sink.stream_concurrency,
    maxEventBytes: sink.max_event_bytes,
    requestTimeoutMs: sink.request_timeout,
  };
}
