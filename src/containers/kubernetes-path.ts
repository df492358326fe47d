/**
 * Kubernetes metadata from where kubelet puts a container's log, without asking the API server.
 *
 * kubelet (pkg/kubelet/kuberuntime/kuberuntime_container.go, container_log_manager.go) lays logs out as
 *   /var/log/pods/<namespace>_<pod>_<pod uid>/<container>/<restart count>.log      the file the runtime writes
 *   /var/log/pods/…/<container>/0.log.20261205-100000                              rotated (renamed) by kubelet
 *   /var/log/pods/…/<container>/0.log.20261205-100000.gz (and .tmp while written) compressed at the next rotation
 *   /var/log/containers/<pod>_<namespace>_<container>-<container id>.log           a symlink to the first form
 * Namespaces, pod names and container names are DNS names: they never hold "_" or "/", so the split is unambiguous.
 * Only the last path segments are read, so the directory may be mounted anywhere (/host/var/log/pods/…).
 *
 * The pods form does not name the container id. When the `containers` directory beside `pods` holds kubelet's
 * symlink to the file, the id is read from the link's name (once per file opened, cached).
 */
import { readdirSync, readlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export interface KubernetesPath {
  readonly namespace: string;
  readonly podName: string;
  /** Absent in the /var/log/containers form. */
  readonly podUid?: string;
  readonly containerName: string;
  /** 64 hex digits: in the /var/log/containers form, or found through its symlink. */
  readonly containerId?: string;
  /** The restart count the file belongs to (`0.log` → 0); absent in the /var/log/containers form. */
  readonly restart?: number;
}

const PODS_FORM = /(?:^|\/)([^/_]+)_([^/_]+)_([^/_]+)\/([^/_]+)\/(\d+)\.log(?:\.\d{8}-\d{6})?$/;
const CONTAINERS_FORM = /(?:^|\/)([^/_]+)_([^/_]+)_([^/_]+)-([0-9a-f]{64})\.log$/;
/** kubelet's compressed generations and the temporary file it compresses into: gzip bytes, not log text. */
const ARCHIVE = /\.(?:gz|tmp)$/;

/** A file kubelet compressed (or is compressing): not to be read as text. */
export function isKubeletArchive(path: string): boolean {
  return ARCHIVE.test(path);
}

/** The Kubernetes facts in a log path, or null when it has neither form. */
export function parseKubernetesPath(path: string): KubernetesPath | null {
  const p = PODS_FORM.exec(path);
  if (p !== null) {
    return { namespace: p[1]!, podName: p[2]!, podUid: p[3]!, containerName: p[4]!, restart: Number(p[5]) };
  }
  const c = CONTAINERS_FORM.exec(path);
  if (c !== null) return { podName: c[1]!, namespace: c[2]!, containerName: c[3]!, containerId: c[4]! };
  return null;
}

/** Docker's json-file log name, as a symlink target. */
const DOCKER_JSON_LOG = /(?:^|\/)[0-9a-f]{64}-json\.log$/;

/** Symlink targets already resolved to a container id: `<pod dir>/<container>/<n>.log` → id. Bounded. */
const MAX_CACHED_IDS = 4096;

/**
 * Finds the container id of a /var/log/pods file through kubelet's /var/log/containers symlink to it. The links are
 * looked up in the `containers` directory beside `pods` (absent: no id).
 */
export class ContainerIdLinks {
  private readonly ids = new Map<string, string>();
  /** Paths already looked at by isDockerLog (what a path is does not change). Bounded. */
  private readonly dockerLinks = new Map<string, boolean>();

  /**
   * Is `path` a symlink to a Docker json-file log? On a node whose runtime is Docker Engine (cri-dockerd, dockershim),
   * kubelet's /var/log/pods/…/<n>.log are such links: their content is json-file, not CRI, and a docker input on
   * /var/lib/docker/containers reads the same files. Once per path.
   */
  isDockerLog(path: string): boolean {
    let known = this.dockerLinks.get(path);
    if (known === undefined) {
      try {
        known = DOCKER_JSON_LOG.test(readlinkSync(path));
      } catch {
        known = false; // not a symlink (EINVAL), or gone: a regular CRI file
      }
      if (this.dockerLinks.size >= MAX_CACHED_IDS) this.dockerLinks.clear();
      this.dockerLinks.set(path, known);
    }
    return known;
  }

  /** The id for the pods-form `path` (rotated names included), or undefined. */
  find(path: string, k: KubernetesPath): string | undefined {
    if (k.podUid === undefined || k.restart === undefined) return k.containerId;
    const containerDir = dirname(path);
    const podDir = dirname(containerDir);
    const podsDir = dirname(podDir);
    if (basename(podsDir) !== 'pods') return undefined;
    // What every link to this file ends with, wherever /var/log is mounted.
    const target = `/${basename(podDir)}/${k.containerName}/${k.restart}.log`;
    const cached = this.ids.get(podDir + target);
    if (cached !== undefined) return cached;
    const linksDir = join(dirname(podsDir), 'containers');
    const prefix = `${k.podName}_${k.namespace}_${k.containerName}-`;
    let names: string[];
    try {
      names = readdirSync(linksDir);
    } catch {
      return undefined;
    }
    for (const name of names) {
      if (!name.startsWith(prefix) || !name.endsWith('.log')) continue;
      const id = name.slice(prefix.length, -'.log'.length);
      if (!/^[0-9a-f]{64}$/.test(id)) continue;
      let link: string;
      try {
        link = readlinkSync(join(linksDir, name));
      } catch {
        continue;
      }
      if (!link.endsWith(target)) continue;
      if (this.ids.size >= MAX_CACHED_IDS) this.ids.clear();
      this.ids.set(podDir + target, id);
      return id;
    }
    return undefined; // no link (yet, or any more): not cached, the next file of it looks again
  }
}
