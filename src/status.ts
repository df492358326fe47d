/**
 * `logship status --config FILE [--json]`: what the registry says, per file — path, identity, size, committed
 * offset, bytes behind, last acknowledgement — a table for people, JSON for scripts.
 *
 * It only reads: the registry is written whole and renamed into place, so reading it while the agent runs sees
 * the last checkpoint, never a torn one. Sizes are taken from the files now (the registry's own size is as of the
 * last read), so `behind` includes what was written since. When the agent's monitoring server answers at the
 * configured address, its /health status is shown too.
 */
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { request } from 'node:http';
import type { Config } from './config/types.js';
import { parseRegistry, registryPath, type Checkpoint, type Loss } from './pipeline/registry.js';

/** Losses listed one by one in the table (all of them are in --json). */
const LOSSES_SHOWN = 10;
import { summarizeDeadLetters, type DeadLetterSummary } from './pipeline/dead-letter-summary.js';
import { sameFile, startsLike } from './tail/identity.js';
import { locateBeside } from './tail/resume.js';
import { formatListen } from './monitoring/listen.js';

/** Where a checkpointed file is now. */
export type FileWhereabouts =
  /** At the path it was found at, same identity. */
  | 'live'
  /** Renamed beside it (a rotated generation, e.g. django.log.1). */
  | 'rotated'
  /** Same device and inode at its path, but its first line changed: truncated or rewritten since. */
  | 'replaced'
  /** Neither at its path nor beside it: deleted, compressed or moved elsewhere. */
  | 'gone';

export interface FileStatus {
  path: string;
  state: FileWhereabouts;
  /** Where it is now, when found. */
  location: string | null;
  identity: { dev: number; ino: number; fingerprint: string; fingerprint_bytes: number };
  /** Size now (live or rotated), else the size when last read. */
  size: number;
  size_at_last_read: number;
  committed_offset: number;
  /** size − committed offset: bytes not yet acknowledged by the sink (null when the file was replaced). */
  bytes_behind: number | null;
  last_acknowledged: string;
}

export interface AgentStatus {
  url: string;
  reachable: boolean;
  /** ok | degraded | failing, from /health. */
  status?: string;
  reasons?: string[];
  /**
   * Is the agent answering this config's (its /health names the same config file)? false: another logship's, or
   * something that is not logship at all (then `config` is absent).
   */
  ours?: boolean;
  /** The config file, pid and per-run instance id of the agent that answered, as its /health says. */
  config?: string;
  pid?: number;
  instance?: string;
}

export interface StatusReport {
  config: string;
  registry: string;
  exists: boolean;
  /** When the registry was last written (its mtime). */
  written_at: string | null;
  files: FileStatus[];
  total_bytes_behind: number;
  /** Records the sink refused for good (data_dir/dead_letters.ndjson and its rotated files); null when there are none. */
  dead_letters: DeadLetterSummary | null;
  /** null when monitoring is disabled or listens on port 0 (nothing to ask). */
  agent: AgentStatus | null;
  /** Bytes the agent counted as lost (the registry keeps the latest), oldest first. */
  losses: readonly Loss[];
}

/** Problems reading the registry: a message for stderr and exit 1. */
export class StatusError extends Error {}

export async function collectStatus(config: Config, options: { probeAgent?: boolean } = {}): Promise<StatusReport> {
  const path = registryPath(config.dataDir);
  const agent = options.probeAgent === false ? null : await probeAgent(config);
  let text: string;
  let writtenAt: string | null = null;
  try {
    text = readFileSync(path, 'utf8');
    writtenAt = statSync(path).mtime.toISOString();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      const dead_letters = await summarizeDeadLetters(config.dataDir);
      return { config: config.configFile, registry: path, exists: false, written_at: null, files: [], total_bytes_behind: 0, dead_letters, agent, losses: [] };
    }
    throw new StatusError(`cannot read the registry ${path}: ${(err as Error).message}`);
  }
  const { checkpoints, losses } = parseCheckpoints(text, path);
  const files = await Promise.all(checkpoints.map(fileStatus));
  files.sort((a, b) => a.path.localeCompare(b.path) || a.identity.ino - b.identity.ino);
  const total = files.reduce((sum, f) => sum + (f.bytes_behind ?? 0), 0);
  const dead_letters = await summarizeDeadLetters(config.dataDir);
  return { config: config.configFile, registry: path, exists: true, written_at: writtenAt, files, total_bytes_behind: total, dead_letters, agent, losses };
}

function parseCheckpoints(text: string, path: string): { checkpoints: Checkpoint[]; losses: Loss[] } {
  try {
    return parseRegistry(text);
  } catch (err) {
    throw new StatusError(`the registry ${path} is ${(err as Error).message}; the agent sets such a file aside at its next start`);
  }
}

async function fileStatus(c: Checkpoint): Promise<FileStatus> {
  const identity = { dev: c.dev, ino: c.ino, fingerprint: c.fingerprint, fingerprint_bytes: c.fingerprintBytes };
  const row = (state: FileWhereabouts, location: string | null, size: number, behind: number | null): FileStatus => ({
    path: c.path,
    state,
    location,
    identity,
    size,
    size_at_last_read: c.size,
    committed_offset: c.offset,
    bytes_behind: behind,
    last_acknowledged: c.ackedAt,
  });
  // A file seen and not read yet has no fingerprint: its inode and birth time say whether it is still there.
  const unread = c.fingerprintBytes === 0;
  const here = await stat(c.path).catch(() => null);
  if (here && sameFile(here, c)) {
    if (unread || (await startsLike(c.path, c))) return row('live', c.path, here.size, Math.max(0, here.size - c.offset));
    return row('replaced', c.path, here.size, null);
  }
  const moved = await locateBeside(c);
  if (moved) return row('rotated', moved.path, moved.stat.size, Math.max(0, moved.stat.size - c.offset));
  return row('gone', null, c.size, Math.max(0, c.size - c.offset));
}

/** Ask the running agent's /health (500 ms at most). */
async function probeAgent(config: Config): Promise<AgentStatus | null> {
  const m = config.monitoring;
  if (!m.enabled || m.listen.port === 0) return null;
  const host = m.listen.host === '0.0.0.0' ? '127.0.0.1' : m.listen.host === '::' ? '::1' : m.listen.host;
  const url = `http://${formatListen({ host, port: m.listen.port })}/health`;
  return new Promise((resolve) => {
    const req = request(url, { timeout: 500 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => {
        try {
          const parsed = JSON.parse(body) as { status?: unknown; reasons?: unknown; agent?: { config?: unknown; pid?: unknown; instance?: unknown } };
          const who = parsed.agent ?? {};
          const agentConfig = typeof who.config === 'string' ? who.config : undefined;
          resolve({
            url,
            reachable: true,
            status: String(parsed.status),
            reasons: Array.isArray(parsed.reasons) ? parsed.reasons.map(String) : [],
            ours: agentConfig !== undefined && sameConfigFile(agentConfig, config.configFile),
            ...(agentConfig !== undefined && { config: agentConfig }),
            ...(typeof who.pid === 'number' && { pid: who.pid }),
            ...(typeof who.instance === 'string' && { instance: who.instance }),
          });
        } catch {
          resolve({ url, reachable: true, status: `HTTP ${res.statusCode ?? '?'} (not logship?)`, ours: false });
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ url, reachable: false }));
    req.end();
  });
}

/** Two names of one config file: the same path, or the same file once links are resolved. */
function sameConfigFile(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}

/**
 * Text for a terminal: control characters (C0, DEL, C1), the Unicode line and paragraph separators and bidirectional
 * overrides are written as escapes, and so is `\` itself, so that a file name (or a reason from the registry, the
 * dead letters or whatever answers on the monitoring port) can neither run terminal escape sequences (retitle,
 * clear the screen), nor start a line of its own and forge a table row, nor reorder what is shown.
 */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => {
    switch (c) {
      case '\\':
        return '\\\\';
      case '\n':
        return '\\n';
      case '\r':
        return '\\r';
      case '\t':
        return '\\t';
      default: {
        const code = c.charCodeAt(0);
        return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
      }
    }
  });
}

const UNPRINTABLE = /[\\\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** The report as a table for people. Every string from outside (file names, reasons, answers) goes through printable(). */
export function formatStatus(report: StatusReport, now = Date.now()): string {
  const lines: string[] = [];
  lines.push(`registry: ${printable(report.registry)}${report.written_at ? ` (written ${report.written_at}, ${ago(Date.parse(report.written_at), now)})` : ''}`);
  if (report.agent) {
    const a = report.agent;
    const reasons = a.reasons && a.reasons.length > 0 ? ` — ${a.reasons.join('; ')}` : '';
    let state: string;
    if (!a.reachable) state = 'not answering (not running, or listening elsewhere)';
    else if (a.ours === false && a.config === undefined) state = `something that is not a logship agent answers there (${a.status})`;
    else if (a.ours === false) {
      state = `not this config's agent: the logship answering (pid ${a.pid ?? '?'}) runs ${a.config}; its status: ${a.status}${reasons}`;
    } else state = `${a.status}${reasons}${a.pid !== undefined ? ` (pid ${a.pid})` : ''}`;
    lines.push(`agent:    ${printable(state)} (${printable(a.url)})`);
  }
  const dead = report.dead_letters;
  if (dead) {
    const top = dead.reasons.map((r) => `${r.count}× ${r.reason}`).join('; ');
    const where = dead.files > 1 ? `${dead.path} and its rotated files (${dead.files} files)` : dead.path;
    lines.push(printable(`dead letters: ${dead.count} in ${where}${top ? ` — ${top}` : ''}${dead.unreadable ? ` (${dead.unreadable} unreadable lines)` : ''}`));
  }
  if (report.losses.length > 0) {
    const bytes = report.losses.reduce((sum, l) => sum + l.bytes, 0);
    lines.push(printable(`lost:     ${bytes} bytes in ${report.losses.length} file${report.losses.length === 1 ? '' : 's'} (the latest: logship_rotation_lost_bytes_total)`));
    for (const l of report.losses.slice(-LOSSES_SHOWN)) lines.push(printable(`  ${l.at}  ${l.bytes} bytes of ${l.path} (${l.reason})`));
  }
  if (!report.exists) {
    lines.push('no checkpoints yet: the agent has not run with this data_dir, or has not read a line yet');
    return lines.join('\n') + '\n';
  }
  if (report.files.length === 0) {
    lines.push('the registry holds no files');
    return lines.join('\n') + '\n';
  }
  const header = ['PATH', 'STATE', 'IDENTITY', 'SIZE', 'COMMITTED', 'BEHIND', 'LAST ACK'];
  const rows = report.files.map((f) =>
    [
      f.path + (f.state === 'rotated' && f.location ? ` → ${f.location}` : ''),
      f.state,
      `${f.identity.dev}:${f.identity.ino}/${f.identity.fingerprint === '' ? 'unread' : f.identity.fingerprint.slice(0, 8)}`,
      String(f.size),
      String(f.committed_offset),
      f.bytes_behind === null ? '?' : String(f.bytes_behind),
      `${f.last_acknowledged} (${ago(Date.parse(f.last_acknowledged), now)})`,
    ].map(printable),
  );
  const numeric = new Set([3, 4, 5]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const format = (cells: string[]): string =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : numeric.has(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  lines.push(format(header), ...rows.map(format));
  lines.push(`${report.files.length} file${report.files.length === 1 ? '' : 's'}, ${report.total_bytes_behind} bytes behind in total`);
  return lines.join('\n') + '\n';
}

function ago(then: number, now: number): string {
  if (!Number.isFinite(then)) return 'unknown';
  const s = Math.max(0, Math.round((now - then) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m ago`;
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h ago`;
}
