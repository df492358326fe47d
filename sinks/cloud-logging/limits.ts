/**
 * The entries.write limits, and keeping within them: an entry's encoded size, truncating an entry that is too large
 * (with a marker and the `_logship_truncated` tag, never silently), and splitting a batch into requests.
 *
 * From https://cloud.google.com/logging/quotas ("Logging usage limits", "Logging API quotas and limits"):
 * - "Size of a LogEntry: 256 KiB. This limit is approximate and is based on internal data sizes, not the actual REST
 *   API request size." We size the protobuf encoding exactly (what gRPC sends) and keep well under it.
 * - "Size of an entries.write request: 10 MB."
 * - No limit on the number of entries per request is documented. Google's own Go client bundles at most 1000 entries
 *   and 8 MiB per entries.write call (cloud.google.com/go/logging: DefaultEntryCountThreshold = 1000,
 *   DefaultEntryByteThreshold = 1 << 23); we use the same figures, well under the 10 MB.
 */
import { TAG_TRUNCATED, type EcsDocument } from '../../src/record.js';
import { SEVERITY_NUMBER, type EntryEnvelope } from './entry.js';

export const MAX_ENTRY_BYTES = 256 * 1024;
/** What an entry is fitted to: under 256 KiB however "256 KB" is counted, with room for the service's own accounting. */
export const ENTRY_BUDGET_BYTES = 250_000;
export const MAX_REQUEST_BYTES = 10_000_000;
export const REQUEST_BUDGET_BYTES = 8 * 1024 * 1024;
export const MAX_ENTRIES_PER_REQUEST = 1000;
/** A cut string keeps at least this much of its start. */
export const MIN_KEPT_BYTES = 1024;

// Protobuf encoded sizes (https://protobuf.dev/programming-guides/encoding/). Every LogEntry field the sink sets has
// a number below 16, so each tag is one byte. protobufjs (which the client's gRPC serialiser uses) writes every field
// that is set, default values included, and both the key and the value of every map entry.

export function varintSize(n: number): number {
  if (n < 0) return 10; // negative int32/int64: sign-extended to 64 bits
  let size = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

/** A length-delimited field: tag, length, content. */
function lengthDelimited(contentBytes: number): number {
  return 1 + varintSize(contentBytes) + contentBytes;
}

function stringField(s: string): number {
  return lengthDelimited(Buffer.byteLength(s, 'utf8'));
}

/** A map<string, string> field: one length-delimited entry (key = 1, value = 2) per pair. */
function stringMapSize(map: Readonly<Record<string, string>>): number {
  let size = 0;
  for (const [k, v] of Object.entries(map)) size += lengthDelimited(stringField(k) + stringField(v));
  return size;
}

/** The content of a google.protobuf.Value holding the JSON value `v` (as toStruct in entry.ts builds it). */
function valueSize(v: unknown): number {
  if (v === null || v === undefined) return 2; // null_value = 1, enum 0
  switch (typeof v) {
    case 'string':
      return stringField(v); // string_value = 3
    case 'number':
      return Number.isFinite(v) ? 9 : 2; // number_value = 2, a fixed64 double
    case 'boolean':
      return 2; // bool_value = 4
    case 'bigint':
      return stringField(v.toString());
    case 'object':
      if (Array.isArray(v)) {
        let list = 0; // ListValue.values = 1
        for (const x of v) list += lengthDelimited(valueSize(x));
        return lengthDelimited(list); // list_value = 6
      }
      return lengthDelimited(structSize(v)); // struct_value = 5
    default:
      return 2;
  }
}

/** The content of a google.protobuf.Struct (map<string, Value> fields = 1) built from `obj`. */
export function structSize(obj: object): number {
  let size = 0;
  for (const [k, v] of Object.entries(obj)) {
    if (v === undefined || typeof v === 'function') continue;
    size += lengthDelimited(stringField(k) + lengthDelimited(valueSize(v)));
  }
  return size;
}

/** The encoded LogEntry without its payload. */
export function envelopeSize(e: EntryEnvelope): number {
  let size = stringField(e.logName) + stringField(e.insertId); // log_name = 12, insert_id = 4
  size += lengthDelimited(stringField(e.resource.type) + stringMapSize(e.resource.labels)); // resource = 8
  size += stringMapSize(e.labels); // labels = 11
  if (e.timestamp) size += lengthDelimited(1 + varintSize(e.timestamp.seconds) + 1 + varintSize(e.timestamp.nanos)); // timestamp = 9
  size += 1 + varintSize(SEVERITY_NUMBER[e.severity]); // severity = 10
  return size;
}

/** The encoded LogEntry with `payload` as its json_payload (= 6). */
export function entrySize(e: EntryEnvelope, payload: object): number {
  return envelopeSize(e) + lengthDelimited(structSize(payload));
}

export interface FittedPayload {
  readonly payload: EcsDocument;
  /** Encoded size of the entry with this payload. */
  readonly size: number;
  /** Encoded size before truncation (= size when nothing was cut). */
  readonly originalSize: number;
  readonly truncated: boolean;
}

/** Top-level members kept whole as long as anything else can give way. */
const ESSENTIAL = new Set(['@timestamp', 'message', 'log', 'tags']);

/**
 * The payload for `doc` that makes the entry fit `budget` bytes. `doc` itself is never changed (a record may be sent
 * again, or dead-lettered, as it was read). When it is too large, a copy is cut, in this order, until it fits:
 * 1. the longest strings (a traceback, a huge message, event.original), each to no less than 1 KiB, ending in a
 *    marker that says how long it was;
 * 2. the largest other top-level members (django, error, event…), replaced by a marker string;
 * 3. all that is left: @timestamp, the message cut, and the tags.
 * The copy carries the `_logship_truncated` tag.
 */
export function fitPayload(envelope: EntryEnvelope, doc: EcsDocument, budget = ENTRY_BUDGET_BYTES): FittedPayload {
  const fixed = envelopeSize(envelope);
  const originalSize = fixed + lengthDelimited(structSize(doc));
  if (originalSize <= budget) return { payload: doc, size: originalSize, originalSize, truncated: false };

  let copy = structuredClone(doc) as EcsDocument & Record<string, unknown>;
  copy.tags = [...(copy.tags ?? []).filter((t) => t !== TAG_TRUNCATED), TAG_TRUNCATED];
  const over = (): number => fixed + lengthDelimited(structSize(copy)) - budget;

  for (const leaf of stringLeaves(copy)) {
    const excess = over();
    if (excess <= 0 || leaf.bytes <= MIN_KEPT_BYTES) break;
    const marker = truncationMarker(leaf.bytes);
    // 8 bytes of slack: shorter content can only shrink the length prefixes around it.
    const keep = Math.max(MIN_KEPT_BYTES, leaf.bytes - excess - Buffer.byteLength(marker) - 8);
    if (keep >= leaf.bytes) continue;
    leaf.set(cutUtf8(leaf.value, keep) + marker);
  }

  if (over() > 0) {
    const members = Object.keys(copy)
      .filter((k) => !ESSENTIAL.has(k))
      .map((k) => ({ k, size: structSize({ [k]: copy[k] }) }))
      .sort((a, b) => b.size - a.size);
    for (const { k, size } of members) {
      if (over() <= 0) break;
      copy[k] = `[dropped by logship: ${size} bytes over the Cloud Logging entry limit]`;
    }
  }

  if (over() > 0) {
    const message = String(copy.message);
    copy = {
      '@timestamp': copy['@timestamp'],
      message: cutUtf8(message, MIN_KEPT_BYTES) + truncationMarker(Buffer.byteLength(message)),
      tags: copy.tags,
    } as EcsDocument & Record<string, unknown>;
  }
  return { payload: copy, size: fixed + lengthDelimited(structSize(copy)), originalSize, truncated: true };
}

export function truncationMarker(originalBytes: number): string {
  return ` …[truncated by logship: ${originalBytes} bytes, over the Cloud Logging entry limit]`;
}

interface StringLeaf {
  readonly value: string;
  readonly bytes: number;
  set(value: string): void;
}

/** Every string in `root` (object members and list items), longest first. */
function stringLeaves(root: object): StringLeaf[] {
  const leaves: StringLeaf[] = [];
  const visit = (container: Record<string, unknown> | unknown[]): void => {
    for (const [k, v] of Object.entries(container)) {
      if (typeof v === 'string') {
        const bytes = Buffer.byteLength(v, 'utf8');
        if (bytes > MIN_KEPT_BYTES) {
          leaves.push({ value: v, bytes, set: (s) => void ((container as Record<string, unknown>)[k] = s) });
        }
      } else if (v !== null && typeof v === 'object') {
        visit(v as Record<string, unknown>);
      }
    }
  };
  visit(root as Record<string, unknown>);
  return leaves.sort((a, b) => b.bytes - a.bytes);
}

/** The longest start of `s` that is at most `maxBytes` of UTF-8, cut on a character boundary. */
export function cutUtf8(s: string, maxBytes: number): string {
  const buf = Buffer.from(s, 'utf8');
  if (buf.length <= maxBytes) return s;
  let end = maxBytes;
  while (end > 0 && (buf[end]! & 0xc0) === 0x80) end--; // a continuation byte: back to the character's first byte
  return buf.subarray(0, end).toString('utf8');
}

/** The encoded size an entry of `entryBytes` adds to a WriteLogEntriesRequest (entries = 4). */
export function requestShare(entryBytes: number): number {
  return lengthDelimited(entryBytes);
}

/** partial_success = 5, a bool. */
const REQUEST_FIXED_BYTES = 2;

/**
 * Groups of consecutive indexes, one per request, each at most `maxEntries` entries and `maxBytes` encoded. An
 * entry is never larger than a request (entries are fitted to 250 KB first).
 */
export function planRequests(
  entryBytes: readonly number[],
  maxBytes = REQUEST_BUDGET_BYTES,
  maxEntries = MAX_ENTRIES_PER_REQUEST,
): number[][] {
  const groups: number[][] = [];
  let current: number[] = [];
  let bytes = REQUEST_FIXED_BYTES;
  entryBytes.forEach((size, i) => {
    const share = requestShare(size);
    if (current.length > 0 && (current.length >= maxEntries || bytes + share > maxBytes)) {
      groups.push(current);
      current = [];
      bytes = REQUEST_FIXED_BYTES;
    }
    current.push(i);
    bytes += share;
  });
  if (current.length > 0) groups.push(current);
  return groups;
}
