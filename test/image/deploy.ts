/**
 * The shipped deployments, read from their files and turned into `podman run` options, so that the image test runs
 * the container exactly as docker/docker-compose.yml's logship service and docker/k8s/daemonset.yml run it: user,
 * capabilities, no-new-privileges, read-only root, init, environment, mounts, arguments and stop grace. What a
 * test must supply (host directories, the Elasticsearch URL, the monitoring port) is given by the caller; a setting
 * this file does not know how to translate is an error, so a new compose key cannot be silently left untested.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';

const REPO = resolve(import.meta.dirname, '../..');
export const COMPOSE_FILE = resolve(REPO, 'docker/docker-compose.yml');
export const DAEMONSET_FILE = resolve(REPO, 'docker/k8s/daemonset.yml');

/** A mount's host side as the test provides it: a host path (file or directory) or a podman named volume. */
export type MountSource = { readonly path: string } | { readonly volume: string };

export interface Deployment {
  /** `podman run` options (before the image name). */
  readonly options: string[];
  /** Arguments after the image name (compose `command`, the DaemonSet container's `args`); empty: the image's CMD. */
  readonly args: string[];
  /** Seconds `podman stop` waits after SIGTERM (compose stop_grace_period, terminationGracePeriodSeconds). */
  readonly stopTimeoutS: number;
}

type Env = Record<string, string>;

// Compose keys that do not change how the container runs here: the image is built by run.sh, ports are moot under
// host networking (the test gives the monitoring address itself), ordering and restarts belong to the compose
// engine, and the healthcheck's command is compared with the image's HEALTHCHECK by the test itself.
const COMPOSE_IGNORED = new Set(['build', 'image', 'depends_on', 'ports', 'restart', 'healthcheck', 'profiles']);

/** `${NAME:-default}` / `${NAME-default}` / `${NAME}` as compose interpolates them with an empty environment. */
function composeDefaults(value: string): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}/g, (_m, _name: string, def?: string) => def ?? '');
}

/** "40s", "1m30s", "500ms" (compose durations) in whole seconds, rounded up. */
function composeSeconds(value: string): number {
  let ms = 0;
  for (const [, n, unit] of value.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) {
    ms += Number(n) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit as 'ms' | 's' | 'm' | 'h'];
  }
  return Math.ceil(ms / 1000);
}

export interface ComposeService {
  readonly raw: Record<string, unknown>;
  /** The service's healthcheck command (`test`), to compare with the image's HEALTHCHECK. */
  readonly healthcheckTest: string[] | undefined;
  /** The host file the service mounts as `target` (relative sources resolved against docker/), if it is one. */
  hostFileFor(target: string): string | undefined;
}

export function composeService(name = 'logship'): ComposeService {
  const doc = parse(readFileSync(COMPOSE_FILE, 'utf8')) as { services: Record<string, Record<string, unknown>> };
  const raw = doc.services[name];
  if (!raw) throw new Error(`${COMPOSE_FILE}: no service ${name}`);
  return {
    raw,
    healthcheckTest: (raw['healthcheck'] as { test?: string[] } | undefined)?.test,
    hostFileFor(target) {
      const m = composeVolumes(raw).find((v) => v.target === target);
      return m && /^\.{0,2}\//.test(m.source) ? resolve(dirname(COMPOSE_FILE), m.source) : undefined;
    },
  };
}

interface ComposeVolume {
  readonly source: string;
  readonly target: string;
  readonly readOnly: boolean;
}

function composeVolumes(service: Record<string, unknown>): ComposeVolume[] {
  return ((service['volumes'] as (string | Record<string, unknown>)[] | undefined) ?? []).map((v) => {
    if (typeof v === 'string') {
      const [source = '', target = '', mode = ''] = composeDefaults(v).split(':');
      return { source, target, readOnly: mode.split(',').includes('ro') };
    }
    return { source: composeDefaults(String(v['source'])), target: String(v['target']), readOnly: v['read_only'] === true };
  });
}

/**
 * The `podman run` options for a compose service. `mounts` gives the host side of each mount by its target
 * path (every target must be there); `env` overrides the service's environment (e.g. ES_URL).
 */
export function composeDeployment(service: ComposeService, mounts: ReadonlyMap<string, MountSource>, env: Env): Deployment {
  const s = service.raw;
  const options: string[] = [];
  let args: string[] = [];
  let stopTimeoutS = 10; // compose's default stop_grace_period
  for (const [key, value] of Object.entries(s)) {
    if (COMPOSE_IGNORED.has(key)) continue;
    switch (key) {
      case 'init':
        if (value === true) options.push('--init');
        break;
      case 'user':
        options.push('--user', String(value));
        break;
      case 'cap_drop':
        for (const c of value as string[]) options.push('--cap-drop', c);
        break;
      case 'cap_add':
        for (const c of value as string[]) options.push('--cap-add', c);
        break;
      case 'security_opt':
        for (const o of value as string[]) options.push('--security-opt', o);
        break;
      case 'read_only':
        // podman adds tmpfs on /tmp, /run and /var/tmp to a read-only container; Docker does not.
        if (value === true) options.push('--read-only', '--read-only-tmpfs=false');
        break;
      case 'tmpfs':
        for (const t of Array.isArray(value) ? (value as string[]) : [String(value)]) options.push('--tmpfs', t);
        break;
      case 'stop_signal':
        options.push('--stop-signal', String(value));
        break;
      case 'stop_grace_period':
        stopTimeoutS = composeSeconds(String(value));
        break;
      case 'command':
        args = (value as string[]).map(String);
        break;
      case 'environment': {
        const entries = Array.isArray(value)
          ? (value as string[]).map((e) => e.split(/=(.*)/s, 2) as [string, string])
          : Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, String(v)] as [string, string]);
        for (const [k, v] of entries) if (!(k in env)) options.push('--env', `${k}=${composeDefaults(v)}`);
        break;
      }
      case 'volumes':
        for (const v of composeVolumes(s)) options.push(...mountOption(mounts, v.target, v.readOnly, `compose ${v.source}`));
        break;
      default:
        throw new Error(`${COMPOSE_FILE}: the logship service's "${key}" is not translated by test/image/deploy.ts: add it there`);
    }
  }
  for (const [k, v] of Object.entries(env)) options.push('--env', `${k}=${v}`);
  options.push('--stop-timeout', String(stopTimeoutS));
  return { options, args, stopTimeoutS };
}

function mountOption(mounts: ReadonlyMap<string, MountSource>, target: string, readOnly: boolean, what: string): string[] {
  const source = mounts.get(target);
  if (!source) throw new Error(`${what} is mounted at ${target}: the image test has no host side for it (add it to the test's mounts)`);
  const from = 'path' in source ? source.path : source.volume;
  return ['--volume', `${from}:${target}${readOnly ? ':ro' : ''}`];
}

interface K8sContainer {
  args?: string[];
  command?: string[];
  env?: { name: string; value?: string; valueFrom?: Record<string, unknown> }[];
  ports?: { name?: string; containerPort: number }[];
  readinessProbe?: { httpGet?: { path: string } };
  livenessProbe?: { httpGet?: { path: string } };
  securityContext?: {
    runAsUser?: number;
    runAsGroup?: number;
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    capabilities?: { drop?: string[]; add?: string[] };
  };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}

export interface DaemonSetManifest {
  /** The ConfigMap's files (name → content), mounted where the container mounts the ConfigMap volume. */
  readonly configFiles: Record<string, string>;
  readonly container: K8sContainer;
  /** hostPath volumes: volume name → the node's path. */
  readonly hostPaths: Record<string, string>;
  /** Volume name → ConfigMap name, for the configMap volumes. */
  readonly configMapVolumes: Record<string, string>;
  readonly terminationGracePeriodSeconds: number;
}

export function daemonSetManifest(): DaemonSetManifest {
  const docs = parseAllDocuments(readFileSync(DAEMONSET_FILE, 'utf8')).map((d) => d.toJS() as Record<string, any>);
  const configMap = docs.find((d) => d['kind'] === 'ConfigMap');
  const ds = docs.find((d) => d['kind'] === 'DaemonSet');
  if (!configMap || !ds) throw new Error(`${DAEMONSET_FILE}: a ConfigMap and a DaemonSet expected`);
  const pod = ds['spec']['template']['spec'] as Record<string, any>;
  const containers = pod['containers'] as K8sContainer[];
  if (containers.length !== 1) throw new Error(`${DAEMONSET_FILE}: one container expected, found ${containers.length}`);
  const hostPaths: Record<string, string> = {};
  const configMapVolumes: Record<string, string> = {};
  for (const v of pod['volumes'] as Record<string, any>[]) {
    if (v['hostPath']) hostPaths[v['name']] = v['hostPath']['path'];
    else if (v['configMap']) configMapVolumes[v['name']] = v['configMap']['name'];
    else throw new Error(`${DAEMONSET_FILE}: volume ${v['name']} is neither hostPath nor configMap: add it to test/image/deploy.ts`);
  }
  return {
    configFiles: configMap['data'] as Record<string, string>,
    container: containers[0]!,
    hostPaths,
    configMapVolumes,
    terminationGracePeriodSeconds: Number(pod['terminationGracePeriodSeconds'] ?? 30),
  };
}

/**
 * The `podman run` options for the DaemonSet's container. `volumes` gives the host side of each pod volume by its
 * name; `env` gives the values of variables the manifest takes from the API (fieldRef, secretKeyRef) and overrides
 * plain ones (ES_URL).
 */
export function daemonSetDeployment(m: DaemonSetManifest, volumes: ReadonlyMap<string, MountSource>, env: Env): Deployment {
  const c = m.container;
  if (c.command) throw new Error(`${DAEMONSET_FILE}: container command is not translated by test/image/deploy.ts`);
  const options: string[] = [];
  const sc = c.securityContext ?? {};
  if (sc.runAsUser !== undefined) options.push('--user', `${sc.runAsUser}:${sc.runAsGroup ?? 0}`);
  for (const cap of sc.capabilities?.drop ?? []) options.push('--cap-drop', cap);
  for (const cap of sc.capabilities?.add ?? []) options.push('--cap-add', cap);
  if (sc.allowPrivilegeEscalation === false) options.push('--security-opt', 'no-new-privileges:true');
  if (sc.readOnlyRootFilesystem) options.push('--read-only', '--read-only-tmpfs=false');
  for (const e of c.env ?? []) {
    if (e.name in env) continue;
    if (e.value === undefined) throw new Error(`${DAEMONSET_FILE}: env ${e.name} comes from ${JSON.stringify(e.valueFrom)}: the test must give it`);
    options.push('--env', `${e.name}=${e.value}`);
  }
  for (const [k, v] of Object.entries(env)) options.push('--env', `${k}=${v}`);
  for (const vm of c.volumeMounts ?? []) {
    const source = volumes.get(vm.name);
    if (!source) throw new Error(`${DAEMONSET_FILE}: volume ${vm.name} (at ${vm.mountPath}): the image test has no host side for it`);
    options.push('--volume', `${'path' in source ? source.path : source.volume}:${vm.mountPath}${vm.readOnly ? ':ro' : ''}`);
  }
  options.push('--stop-timeout', String(m.terminationGracePeriodSeconds));
  // Kubernetes starts no init process: the entrypoint (then node) is PID 1 and gets SIGTERM itself.
  return { options, args: c.args ?? [], stopTimeoutS: m.terminationGracePeriodSeconds };
}
