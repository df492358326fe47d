/**
 * The podman commands the image test uses, as promises. podman runs as root with test/image/containers.conf
 * (CONTAINERS_CONF, set by test/image/run.sh); the image under test is LOGSHIP_TEST_IMAGE, built by run.sh.
 */
import { execFile } from 'node:child_process';

export const IMAGE = process.env['LOGSHIP_TEST_IMAGE'] ?? 'localhost/logship:test';

export interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run `podman …`; resolves with the exit code and output whatever the code. */
export function podman(args: readonly string[], timeoutMs = 120_000): Promise<Result> {
  return new Promise((resolve, reject) => {
    execFile('podman', args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') return reject(new Error(`podman ${args.join(' ')}: ${err.message}`));
      resolve({ code: typeof err?.code === 'number' ? err.code : 0, stdout, stderr });
    });
  });
}

/** Run `podman …` and return its stdout; a non-zero exit is an error carrying podman's stderr. */
export async function podmanOk(args: readonly string[], timeoutMs?: number): Promise<string> {
  const r = await podman(args, timeoutMs);
  if (r.code !== 0) throw new Error(`podman ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** `podman container inspect --format` (or `podman image inspect`), trimmed. */
export async function inspect(name: string, format: string, kind: 'container' | 'image' = 'container'): Promise<string> {
  return (await podmanOk([kind, 'inspect', '--format', format, name])).trim();
}

export interface HealthResult {
  /** `podman healthcheck run` exited 0: the image's HEALTHCHECK command succeeded. */
  readonly healthy: boolean;
  /** What the command printed (podman keeps it in State.Health.Log): "200 ok", "503 failing; …". */
  readonly output: string;
}

/**
 * Run the image's HEALTHCHECK command once, the way the engine's timer does (`podman healthcheck run`), and read
 * what it printed from the health log. (podman's own timer needs systemd, which this machine does not run.)
 */
export async function healthcheck(container: string): Promise<HealthResult> {
  const r = await podman(['healthcheck', 'run', container]);
  if (r.code !== 0 && r.code !== 1) throw new Error(`podman healthcheck run exited ${r.code}: ${r.stderr.trim()}`);
  const log = JSON.parse(await inspect(container, '{{json .State.Health.Log}}')) as { Output: string }[];
  return { healthy: r.code === 0, output: (log.at(-1)?.Output ?? '').trim() };
}

/** Where podman keeps a named volume on the host (this test runs as root and reads it directly). */
export async function volumePath(volume: string): Promise<string> {
  return (await podmanOk(['volume', 'inspect', '--format', '{{.Mountpoint}}', volume])).trim();
}

/** Remove containers and volumes a test made, whatever state they are in. */
export async function removeAll(containers: readonly string[], volumes: readonly string[] = []): Promise<void> {
  for (const c of containers) await podman(['rm', '--force', '--time', '0', c]);
  for (const v of volumes) await podman(['volume', 'rm', '--force', v]);
}

/** The container's own output (logship's JSON log lines on stderr), for a failure message. */
export async function containerLog(container: string, lines = 40): Promise<string> {
  const r = await podman(['logs', '--tail', String(lines), container]);
  return r.stdout + r.stderr;
}
