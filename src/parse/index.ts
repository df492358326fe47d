/**
 * The parser for an input's `type`. Docker inputs learn their container id from the json-file path, since the log
 * lines themselves do not carry it; docker and cri inputs get the rest of their container's facts in the context.
 */

import { createDjangoParser } from './django.js';
import { containerIdFromPath, createDockerParser } from './docker.js';
import { createCriParser } from './cri.js';
import type { DocumentPlacement } from './document.js';
import type { EmitRecord, ParserContext, RecordParser } from './types.js';

export type ParserType = 'django' | 'docker' | 'cri';

export function createParser(type: ParserType, ctx: ParserContext, emit: EmitRecord, placement: DocumentPlacement | null = null): RecordParser {
  if (type === 'docker') return createDockerParser(ctx, containerIdFromPath(ctx.path), emit, placement);
  if (type === 'cri') return createCriParser(ctx, emit);
  return createDjangoParser(ctx, emit, 'file', '', placement);
}
