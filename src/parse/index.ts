/**
 * The parser for an input's `type`. Docker inputs learn their container id from the json-file path, since the log
 * lines themselves do not carry it.
 */

import { createDjangoParser } from './django.js';
import { containerIdFromPath, createDockerParser } from './docker.js';
import type { DocumentPlacement } from './document.js';
import type { EmitRecord, ParserContext, RecordParser } from './types.js';

export type ParserType = 'django' | 'docker';

export function createParser(type: ParserType, ctx: ParserContext, emit: EmitRecord, placement: DocumentPlacement | null = null): RecordParser {
  if (type === 'docker') return createDockerParser(ctx, containerIdFromPath(ctx.path), emit, placement);
  return createDjangoParser(ctx, emit, 'file');
}
