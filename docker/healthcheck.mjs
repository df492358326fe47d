// The image's HEALTHCHECK: GET $LOGSHIP_HEALTH_URL (default http://127.0.0.1:9600/health); exit 0 on 200, 1
// otherwise, printing the reasons /health gave (Docker keeps them: `docker inspect --format '{{json .State.Health}}'`).
const url = process.env.LOGSHIP_HEALTH_URL || 'http://127.0.0.1:9600/health';
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(4000) });
  const body = await res.text();
  let summary = body.trim();
  try {
    const parsed = JSON.parse(body);
    summary = [parsed.status, ...(parsed.reasons ?? [])].join('; ');
  } catch {
    /* not JSON: print as is */
  }
  console.log(`${res.status} ${summary}`);
  process.exit(res.status === 200 ? 0 : 1);
} catch (err) {
  console.log(`${url}: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
