/**
 * A minimal Elasticsearch `_bulk` receiver for benchmarks, run as its own process so its CPU is measured apart
 * from the agent's (and shown, so it is visibly not the bottleneck). It answers just enough for the official
 * client (GET / with x-elastic-product; POST /_bulk with per-item 201s) and counts documents: the number of
 * create actions, and unique ids, so a run that lost or duplicated records is caught.
 *
 * Control (on the same port): GET /_bench/stats → counts + CPU; POST /_bench/stall?ms=N → answer nothing for N ms.
 * Prints "listening <port>" on stdout when ready.
 */
import { createServer } from 'node:http';

let docs = 0;
/** Write-to-acknowledged latencies (ms) of documents whose message carries "wt=<epoch ms>" (latency mode). */
const latencies: number[] = [];
const WRITE_TIME = Buffer.from('wt=');
let stalledUntil = 0;
let bulkRequests = 0;
const ID_KEY = Buffer.from('"_id":"');
const NEWLINE = 0x0a;
const DASH = 0x2d;
const QUOTE = 0x22;

/**
 * The offsets seen for one file identity, as a bitmap (a bit per byte offset, in pages made on first use): setting
 * a bit is O(1) and allocates nothing, where a Set of a million numbers spent most of the receiver's CPU rehashing.
 */
class OffsetBitmap {
  private static readonly PAGE_BITS = 1 << 23;
  private readonly pages: (Uint8Array | undefined)[] = [];
  size = 0;

  add(offset: number): void {
    const p = Math.floor(offset / OffsetBitmap.PAGE_BITS);
    const page = (this.pages[p] ??= new Uint8Array(OffsetBitmap.PAGE_BITS >> 3));
    const bit = offset % OffsetBitmap.PAGE_BITS;
    const mask = 1 << (bit & 7);
    if ((page[bit >> 3]! & mask) === 0) {
      page[bit >> 3]! |= mask;
      this.size++;
    }
  }
}

/**
 * Unique ids seen. logship's ids are "<file identity>-<offset>": kept as a bitmap of offsets per identity (no string
 * per document); any other id as a string. Cheap on purpose: the receiver shares the machine with the agent.
 */
const offsetsByPrefix = new Map<string, OffsetBitmap>();
const otherIds = new Set<string>();
let lastPrefix: Buffer | null = null;
let lastOffsets: OffsetBitmap | null = null;

function uniqueIds(): number {
  let n = otherIds.size;
  for (const offsets of offsetsByPrefix.values()) n += offsets.size;
  return n;
}

function addId(body: Buffer, from: number, to: number): void {
  const dash = body.lastIndexOf(DASH, to);
  let offset = 0;
  let digits = dash > from && to - dash - 1 > 0 && to - dash - 1 <= 15;
  for (let i = dash + 1; digits && i < to; i++) {
    const d = body[i]! - 0x30;
    if (d < 0 || d > 9) digits = false;
    else offset = offset * 10 + d;
  }
  if (!digits) {
    otherIds.add(body.toString('latin1', from, to));
    return;
  }
  // Runs of documents share a prefix: compare bytes with the last one before making a string of it.
  if (lastPrefix === null || lastOffsets === null || body.compare(lastPrefix, 0, lastPrefix.length, from, dash) !== 0) {
    const prefix = body.toString('latin1', from, dash);
    lastPrefix = Buffer.from(prefix, 'latin1');
    lastOffsets = offsetsByPrefix.get(prefix) ?? new OffsetBitmap();
    offsetsByPrefix.set(prefix, lastOffsets);
  }
  lastOffsets.add(offset);
}

/**
 * NDJSON pairs: an action line ({"create":…} from logship and Fluent Bit, {"index":…} from rsyslog's
 * omelasticsearch) and a source line. Count the pairs and collect the ids that action lines carry (the peers send
 * none: auto ids). On the bytes: no decoding of the body.
 */
function countBody(body: Buffer): number {
  let n = 0;
  let at = 0;
  // The next "_id":" at or after `at`, searched again only once passed: a body without ids (Fluent Bit's, ~5,000
  // documents in 2 MB) would otherwise be scanned to its end once per document, and the receiver become the limit.
  let idAt = body.indexOf(ID_KEY);
  while (at < body.length) {
    const actionEnd = body.indexOf(NEWLINE, at);
    if (actionEnd === -1) break;
    if (idAt !== -1 && idAt < at) idAt = body.indexOf(ID_KEY, at);
    if (idAt !== -1 && idAt < actionEnd) {
      const from = idAt + ID_KEY.length;
      addId(body, from, body.indexOf(QUOTE, from));
    }
    n++;
    const sourceEnd = body.indexOf(NEWLINE, actionEnd + 1);
    if (sourceEnd === -1) break;
    at = sourceEnd + 1;
  }
  return n;
}

/**
 * The answer to a bulk request of n creates, all stored (the same few sizes recur: kept). With logship's
 * `filter_path=errors,items.*.status,items.*.error`, Elasticsearch leaves out `took`: so does this.
 */
const answers = new Map<string, string>();
function bulkAnswer(n: number, filtered: boolean): string {
  const key = `${n}:${filtered}`;
  let answer = answers.get(key);
  if (answer === undefined) {
    answer = `{${filtered ? '' : '"took":1,'}"errors":false,"items":[${Array(n).fill('{"create":{"status":201}}').join(',')}]}`;
    if (answers.size < 64) answers.set(key, answer);
  }
  return answer;
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const url = req.url ?? '/';
    const headers = { 'content-type': 'application/json', 'x-elastic-product': 'Elasticsearch' };
    if (url.startsWith('/_bench/stats')) {
      const u = process.resourceUsage();
      res.writeHead(200, headers).end(
        JSON.stringify({ docs, unique: uniqueIds(), bulkRequests, cpuSeconds: (u.userCPUTime + u.systemCPUTime) / 1e6, latencies }),
      );
      return;
    }
    if (url.startsWith('/_bench/stall')) {
      stalledUntil = Date.now() + Number(new URL(url, 'http://x').searchParams.get('ms') ?? 0);
      res.writeHead(200, headers).end('{}');
      return;
    }
    if (req.method === 'GET' && (url === '/' || url.startsWith('/?'))) {
      res.writeHead(200, headers).end(
        JSON.stringify({ name: 'bench', cluster_name: 'bench', version: { number: '8.19.0', build_flavor: 'default' }, tagline: 'You Know, for Search' }),
      );
      return;
    }
    if (url.includes('_bulk')) {
      const answer = (): void => {
        bulkRequests++;
        const body = Buffer.concat(chunks);
        const n = countBody(body);
        docs += n;
        const now = Date.now();
        for (let at = body.indexOf(WRITE_TIME); at !== -1; at = body.indexOf(WRITE_TIME, at + 3)) {
          latencies.push(now - Number(body.toString('latin1', at + 3, at + 16)));
        }
        res.writeHead(200, headers).end(bulkAnswer(n, url.includes('filter_path=')));
      };
      const wait = stalledUntil - Date.now();
      if (wait > 0) setTimeout(answer, wait);
      else answer();
      return;
    }
    res.writeHead(404, headers).end('{"error":"not found","status":404}');
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : 0}\n`);
});
