/**
 * The parser for an input's `type`. Docker inputs learn their container id from the json-file path, since the log
 * lines themselves do not carry it.
 */

import { createDjangoParser } from './django.js';
import { containerIdFromPath, createDockerParser } from './docker.js';
import type { EmitRecord, ParserContext, RecordParser } from './types.js';

export type ParserType = 'django' | 'docker';

export function createParser(type: ParserType, ctx: ParserContext, emit: EmitRecord): RecordParser {
  if (type === 'docker') return createDockerParser(ctx, containerIdFromPath(ctx.path), emit);
  return createDjangoParser(ctx, emit, 'file');
}
