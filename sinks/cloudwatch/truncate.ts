/**
 * Fitting a document into an event: a JSON document whose UTF-8 encoding is over the budget is made smaller by
 * cutting its longest strings (the message, a stack trace, event.original), never by cutting the JSON itself, so the
 * event stays one valid JSON object that Logs Insights can query. A cut string ends with a marker saying how many
 * bytes were cut, and the document gets the `_logship_truncated` tag. The record is sent, never refused for size.
 */
import { TAG_TRUNCATED } from '../../src/record.js';

/** Strings shorter than this (encoded) are never cut: timestamps, ids, levels, tags stay whole. */
const MIN_CUTTABLE_BYTES = 64;

export interface Fitted {
  readonly json: string;
  /** UTF-8 bytes of json. */
  readonly bytes: number;
  readonly truncated: boolean;
}

/** `doc` as JSON of at most `maxBytes` UTF-8 bytes (`maxBytes` >= 512). `doc` itself is not changed. */
export function fitDocument(doc: object, maxBytes: number): Fitted {
  const json = JSON.stringify(doc);
  const bytes = Buffer.byteLength(json);
  if (bytes <= maxBytes) return { json, bytes, truncated: false };
  const copy = structuredClone(doc) as Record<string, unknown>;
  tag(copy);
  const fitted = shrink(copy, maxBytes);
  if (fitted) return fitted;
  // So many fields that cutting every long string is not enough (a Django record with thousands of extra keys):
  // keep what names the record and where it came from, and the message.
  const minimal = minimalDocument(copy);
  return shrink(minimal, maxBytes) ?? { json: '{"tags":["_logship_truncated"]}', bytes: 31, truncated: true };
}

function shrink(root: Record<string, unknown>, maxBytes: number): Fitted | null {
  let json = JSON.stringify(root);
  let excess = Buffer.byteLength(json) - maxBytes;
  if (excess > 0) {
    const leaves = stringLeaves(root).sort((a, b) => b.bytes - a.bytes);
    for (const leaf of leaves) {
      if (excess <= 0) break;
      excess -= cut(leaf, excess);
    }
    json = JSON.stringify(root);
  }
  const bytes = Buffer.byteLength(json);
  return bytes <= maxBytes ? { json, bytes, truncated: true } : null;
}

interface Leaf {
  readonly holder: Record<string, unknown> | unknown[];
  readonly key: string | number;
  readonly value: string;
  /** Bytes of the string inside its JSON quotes. */
  readonly bytes: number;
}

function stringLeaves(node: unknown, out: Leaf[] = []): Leaf[] {
  if (Array.isArray(node)) {
    node.forEach((v, i) => visit(node, i, v, out));
  } else if (node !== null && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) visit(node as Record<string, unknown>, k, v, out);
  }
  return out;
}

function visit(holder: Leaf['holder'], key: string | number, value: unknown, out: Leaf[]): void {
  if (typeof value === 'string') {
    const bytes = jsonStringBytes(value);
    if (bytes >= MIN_CUTTABLE_BYTES) out.push({ holder, key, value, bytes });
  } else {
    stringLeaves(value, out);
  }
}

/** Cuts a string to free at least `excess` bytes if it can; returns the bytes freed. */
function cut(leaf: Leaf, excess: number): number {
  const markerRoom = marker(Buffer.byteLength(leaf.value)).length;
  const keep = Math.max(0, leaf.bytes - excess - markerRoom);
  const head = prefixWithin(leaf.value, keep);
  const removed = Buffer.byteLength(leaf.value.slice(head.length));
  const value = leaf.value.slice(0, head.length) + marker(removed);
  const bytes = head.bytes + marker(removed).length;
  if (bytes >= leaf.bytes) return 0;
  (leaf.holder as Record<string | number, unknown>)[leaf.key] = value;
  return leaf.bytes - bytes;
}

function marker(removedBytes: number): string {
  return ` [logship: truncated ${removedBytes} bytes]`;
}

/** The longest prefix of `s` whose JSON encoding (inside the quotes) takes at most `budget` bytes. */
export function prefixWithin(s: string, budget: number): { length: number; bytes: number } {
  let used = 0;
  let i = 0;
  while (i < s.length) {
    const [width, step] = encodedWidth(s, i);
    if (used + width > budget) break;
    used += width;
    i += step;
  }
  return { length: i, bytes: used };
}

/** UTF-8 bytes of JSON.stringify(s) without its two quotes. */
export function jsonStringBytes(s: string): number {
  let used = 0;
  for (let i = 0; i < s.length; ) {
    const [width, step] = encodedWidth(s, i);
    used += width;
    i += step;
  }
  return used;
}

/** How JSON.stringify writes the code point at `i`, in UTF-8 bytes, and how many UTF-16 units it spans. */
function encodedWidth(s: string, i: number): [number, number] {
  const c = s.charCodeAt(i);
  if (c === 0x22 || c === 0x5c) return [2, 1]; // \" \\
  if (c < 0x20) return [c === 8 || c === 9 || c === 10 || c === 12 || c === 13 ? 2 : 6, 1]; // \n … \u0001
  if (c < 0x80) return [1, 1];
  if (c < 0x800) return [2, 1];
  if (c >= 0xd800 && c <= 0xdbff) {
    const next = s.charCodeAt(i + 1);
    if (next >= 0xdc00 && next <= 0xdfff) return [4, 2];
  }
  if (c >= 0xd800 && c <= 0xdfff) return [6, 1]; // a lone surrogate is written as \udxxx
  return [3, 1];
}

function tag(doc: Record<string, unknown>): void {
  const tags = Array.isArray(doc['tags']) ? (doc['tags'] as unknown[]) : [];
  if (!tags.includes(TAG_TRUNCATED)) doc['tags'] = [...tags, TAG_TRUNCATED];
}

function minimalDocument(doc: Record<string, unknown>): Record<string, unknown> {
  const keep = ['@timestamp', 'message', 'log', 'host', 'container', 'stream', 'event', 'tags'];
  const out: Record<string, unknown> = {};
  for (const key of keep) if (doc[key] !== undefined) out[key] = doc[key];
  const log = doc['log'] as Record<string, unknown> | undefined;
  if (log) out['log'] = { level: log['level'], logger: log['logger'], file: log['file'], offset: log['offset'] };
  const event = doc['event'] as Record<string, unknown> | undefined;
  if (event) out['event'] = { id: event['id'] };
  return out;
}
