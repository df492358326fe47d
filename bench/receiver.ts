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
const WRITE_TIME = 'wt=';
const ids = new Set<string>();
let stalledUntil = 0;
let bulkRequests = 0;
const ID_KEY = '"_id":"';

/**
 * NDJSON pairs: an action line ({"create":…} from logship, {"index":…} from rsyslog's omelasticsearch) and a
 * source line. Count the pairs and collect the ids that action lines carry (rsyslog sends none: auto ids).
 */
function countBody(body: string): number {
  let n = 0;
  let at = 0;
  while (at < body.length) {
    const actionEnd = body.indexOf('\n', at);
    if (actionEnd === -1) break;
    const idAt = body.indexOf(ID_KEY, at);
    if (idAt !== -1 && idAt < actionEnd) ids.add(body.slice(idAt + ID_KEY.length, body.indexOf('"', idAt + ID_KEY.length)));
    n++;
    const sourceEnd = body.indexOf('\n', actionEnd + 1);
    if (sourceEnd === -1) break;
    at = sourceEnd + 1;
  }
  return n;
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
        JSON.stringify({ docs, unique: ids.size, bulkRequests, cpuSeconds: (u.userCPUTime + u.systemCPUTime) / 1e6, latencies }),
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
        const body = Buffer.concat(chunks).toString('utf8');
        const n = countBody(body);
        docs += n;
        const now = Date.now();
        for (let at = body.indexOf(WRITE_TIME); at !== -1; at = body.indexOf(WRITE_TIME, at + 3)) {
          latencies.push(now - Number(body.slice(at + 3, at + 16)));
        }
        res.writeHead(200, headers).end(`{"took":1,"errors":false,"items":[${Array(n).fill('{"create":{"status":201}}').join(',')}]}`);
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
