/**
 * `{field}` templates in `log_name` and in label values (`node_id: "{host}"`), filled per record. Parsed once when
 * the config is validated (so a typo is a config error, not a log name at run time) and again when the sink is made.
 */
import type { EcsDocument, LogRecord } from '../../src/record.js';

/**
 * What a template may name: the record's host.name, its input type (django | docker | cri), its container id (short),
 * its container's name, its service (the compose service).
 */
export const TEMPLATE_FIELDS = ['host', 'input', 'container', 'container_name', 'service'] as const;
export type TemplateField = (typeof TEMPLATE_FIELDS)[number];
export type TemplateValues = Readonly<Record<TemplateField, string>>;

/** Literal text and fields, in order. */
export type Template = readonly (string | { readonly field: TemplateField })[];

/** The template in `text`, or a one-line problem. Braces are only for fields: `{` or `}` otherwise is an error. */
export function parseTemplate(text: string): Template | { readonly problem: string } {
  const parts: (string | { field: TemplateField })[] = [];
  let literal = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '}') return { problem: `unmatched "}" in ${JSON.stringify(text)} (template fields look like {host})` };
    if (c !== '{') {
      literal += c;
      continue;
    }
    const end = text.indexOf('}', i + 1);
    if (end === -1) return { problem: `unclosed "{" in ${JSON.stringify(text)} (template fields look like {host})` };
    const name = text.slice(i + 1, end);
    if (!(TEMPLATE_FIELDS as readonly string[]).includes(name)) {
      return { problem: `unknown template field ${JSON.stringify(`{${name}}`)} (known: ${TEMPLATE_FIELDS.map((f) => `{${f}}`).join(', ')})` };
    }
    if (literal !== '') parts.push(literal);
    literal = '';
    parts.push({ field: name as TemplateField });
    i = end;
  }
  if (literal !== '') parts.push(literal);
  return parts;
}

/** parseTemplate for text already validated by the config schema. */
export function compileTemplate(text: string): Template {
  const t = parseTemplate(text);
  if ('problem' in t) throw new Error(t.problem);
  return t;
}

export function renderTemplate(template: Template, values: TemplateValues): string {
  if (template.length === 1 && typeof template[0] === 'string') return template[0];
  let out = '';
  for (const part of template) out += typeof part === 'string' ? part : values[part.field];
  return out;
}

/** The literal text of a template (its fields left out), for checks that apply to what the user wrote. */
export function literalText(template: Template): string {
  return template.filter((p): p is string => typeof p === 'string').join('');
}

/**
 * Values of the template fields for one record, '' for what it does not have. The input type is the record's file's
 * input; a record without one (made outside the tailer) is `docker` when it carries `stream`, as container output
 * does, else `django`. Read from the document the caller parsed once for the whole entry.
 */
export function templateValues(record: LogRecord, hostName: string, doc: EcsDocument = record.doc): TemplateValues {
  return {
    host: doc.host?.name ?? hostName,
    input: record.source.input?.type ?? (doc.stream !== undefined || doc.container !== undefined ? 'docker' : 'django'),
    container: doc.container?.id?.slice(0, 12) ?? '',
    container_name: doc.container?.name ?? '',
    service: doc.service?.name ?? '',
  };
}
