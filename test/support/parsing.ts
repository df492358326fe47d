import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ParsedRecord, ParserContext } from '../../src/parse/types.js';
import type { EcsDocument } from '../../src/record.js';
import { PYTHON } from './agent.js';

/** A parser context for tests: Paris time, 1 s multi-line timeout, 64 KiB records, unless overridden. */
export function parserContext(path: string, over: Partial<ParserContext> = {}): ParserContext {
  return {
    path,
    hostName: 'web-1',
    timezone: 'Europe/Paris',
    includeOriginal: false,
    multilineTimeoutMs: 1000,
    maxRecordBytes: 64 * 1024,
    ...over,
  };
}

/**
 * Runs a Python script from a file with Debian's python3 and returns its stdout, or null when it fails (not -c:
 * tracebacks show source lines, and so ^^^^ markers, only for files).
 */
export function runPython(script: string): string | null {
  const dir = mkdtempSync(join(tmpdir(), 'logship-py-'));
  try {
    const file = join(dir, 'app.py');
    writeFileSync(file, script);
    return execFileSync(PYTHON, [file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  } catch {
    return null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A parsed record with its document decoded, for comparing with expected documents. */
export interface DecodedRecord {
  readonly start: number;
  readonly end: number;
  readonly doc: EcsDocument;
}

/** What a parser emitted, with the JSON text decoded (and checked to be JSON: JSON.parse throws otherwise). */
export function decoded(r: ParsedRecord): DecodedRecord {
  return { start: r.start, end: r.end, doc: JSON.parse(r.json) as EcsDocument };
}
