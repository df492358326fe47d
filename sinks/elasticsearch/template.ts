/**
 * The index template the sink needs, if any, and its installation.
 *
 * - dataStream and the index matches `logs-*-*`: nothing. Elasticsearch 8/9 ship a built-in `logs-*-*` template
 *   (priority 100, data stream, ECS-friendly `logs@mappings`).
 * - dataStream and another name: a `data_stream: {}` template for exactly that name, or the first write would
 *   create a plain index.
 * - no data stream: a template for `<index>` and `<index>-*` with the ECS mappings the agent writes.
 *
 * Priority 501: Elastic's built-in templates use 100 and Fleet's integrations up to 200, and the docs ask templates
 * that overlap them to use a priority above 500
 * (https://www.elastic.co/docs/manage-data/data-store/templates, "Avoid index pattern collisions").
 *
 * Idempotent and polite: a template we installed with the same `_meta.version` is left alone; one that someone else
 * made (no `_meta.managed_by: logship`) is never overwritten.
 * https://www.elastic.co/docs/api/doc/elasticsearch/operation/operation-indices-put-index-template
 */
import type { Client } from '@elastic/elasticsearch';
import { elasticsearch } from './client-module.js';
import type { Logger } from '../../src/log.js';
import type { SendResult } from '../../src/sink.js';
import type { ElasticsearchSinkConfig } from './config.js';
import { classifyClientError } from './classify.js';

const { errors } = elasticsearch;

export const TEMPLATE_PRIORITY = 501;
/** Bump when the body below changes, so that running agents replace their older template. */
export const TEMPLATE_VERSION = 2;

const keyword = { type: 'keyword', ignore_above: 1024 } as const;

/** Mappings for the fields of EcsDocument, with ECS's types. */
export const ECS_MAPPINGS = {
  properties: {
    '@timestamp': { type: 'date' },
    message: { type: 'match_only_text' },
    log: {
      properties: {
        level: keyword,
        logger: keyword,
        file: { properties: { path: keyword } },
        offset: { type: 'long' },
        origin: {
          properties: {
            file: { properties: { name: keyword, line: { type: 'long' } } },
            function: keyword,
          },
        },
      },
    },
    // ECS maps stack traces as wildcard (grep-like search over long text) with a match_only_text sub-field.
    error: {
      properties: {
        stack_trace: { type: 'wildcard', fields: { text: { type: 'match_only_text' } } },
        type: keyword,
        message: { type: 'match_only_text' },
      },
    },
    process: { properties: { pid: { type: 'long' }, thread: { properties: { id: { type: 'long' }, name: keyword } } } },
    container: {
      properties: {
        id: keyword,
        name: keyword,
        image: { properties: { name: keyword, tag: keyword, hash: { properties: { all: keyword } } } },
        // Which labels come depends on the host's containers and the input's choice: flattened keeps them one field
        // (each still searchable as container.labels.<key>), so a new label neither grows the mapping nor clashes.
        labels: { type: 'flattened' },
      },
    },
    service: { properties: { name: keyword } },
    kubernetes: {
      properties: {
        namespace: keyword,
        pod: { properties: { name: keyword, uid: keyword } },
        container: { properties: { name: keyword } },
      },
    },
    stream: keyword,
    host: { properties: { name: keyword } },
    event: { properties: { original: { type: 'keyword', index: false, doc_values: false } } },
    // Django's extra keys vary by project and may change type between records; flattened stores them all as
    // keywords in one field, so a new key neither grows the mapping nor fails a document on a type clash.
    django: { type: 'flattened' },
    tags: keyword,
  },
} as const;

export interface IndexTemplate {
  readonly name: string;
  readonly body: Record<string, unknown>;
}

/** The template `config` needs, or null when Elasticsearch's built-in one applies. */
export function templateFor(config: Pick<ElasticsearchSinkConfig, 'index' | 'dataStream'>): IndexTemplate | null {
  const { index, dataStream } = config;
  if (dataStream && /^logs-.*-/.test(index)) return null; // the glob logs-*-*
  return {
    name: `logship-${index}`,
    body: {
      index_patterns: dataStream ? [index] : [index, `${index}-*`],
      priority: TEMPLATE_PRIORITY,
      ...(dataStream ? { data_stream: {} } : {}),
      template: { mappings: ECS_MAPPINGS },
      _meta: { managed_by: 'logship', version: TEMPLATE_VERSION, description: 'Installed by logship for its log documents' },
    },
  };
}

/**
 * Install the template for `config` unless it is already there. A 403 (credentials that may write but not manage
 * templates, the least privilege an operator should give a shipper) is not fatal: the operator may have installed
 * the template by hand; a warning says what to do if not.
 */
export async function ensureTemplate(client: Client, config: ElasticsearchSinkConfig, logger: Logger): Promise<SendResult> {
  const template = templateFor(config);
  if (template === null) return { kind: 'delivered' };
  const path = `/_index_template/${encodeURIComponent(template.name)}`;
  try {
    const found = await client.transport.request<{ index_templates?: { index_template?: { _meta?: Record<string, unknown> } }[] }>(
      { method: 'GET', path },
      { ignore: [404], meta: true },
    );
    if (found.statusCode !== 404) {
      const meta = found.body.index_templates?.[0]?.index_template?._meta;
      if (meta?.managed_by !== 'logship') {
        logger.info('index template exists and is not managed by logship; leaving it', { template: template.name });
        return { kind: 'delivered' };
      }
      if (meta.version === TEMPLATE_VERSION) return { kind: 'delivered' };
    }
    await client.transport.request({ method: 'PUT', path, body: template.body });
    logger.info('installed index template', { template: template.name, patterns: template.body.index_patterns });
    return { kind: 'delivered' };
  } catch (err) {
    if (err instanceof errors.ResponseError && err.meta.statusCode === 403) {
      logger.warn('not allowed to read or install the index template; assuming it is managed elsewhere', {
        template: template.name,
        hint: 'grant manage_index_templates, or install the template yourself',
      });
      return { kind: 'delivered' };
    }
    return classifyClientError(err, 0);
  }
}
