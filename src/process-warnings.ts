/**
 * Node's process warnings go to the agent's JSON log. Node's own handler writes them as plain text to stderr —
 * `(node:4242) MetadataLookupWarning: received unexpected error …`, from the Google client looking for a metadata
 * server — which broke "every line on stderr is a JSON object" for whatever reads the agent's log. Each thread has
 * its own `process` 'warning' event: the supervisor, the agent's thread and the parse worker each call this.
 */
import type { Logger } from './log.js';

/** The same warning (name and text) is logged once; a library that repeats itself does not flood the log. */
const MAX_REMEMBERED = 100;

export function logProcessWarnings(logger: Logger): void {
  process.removeAllListeners('warning'); // Node's default handler, which prints the plain-text line
  const seen = new Set<string>();
  process.on('warning', (warning: Error & { code?: string }) => {
    const key = `${warning.name}: ${warning.message}`;
    if (seen.has(key)) return;
    if (seen.size < MAX_REMEMBERED) seen.add(key);
    logger.warn('process warning', { name: warning.name, warning: warning.message, ...(warning.code !== undefined && { code: warning.code }) });
  });
}
