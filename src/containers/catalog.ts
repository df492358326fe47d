/**
 * The tailer's one door to container facts: for each docker/cri input, which of its files to follow at all
 * (`selects`, asked by discovery before a file is even stat'ed), and what a file's documents say of its container
 * (`infoFor`, asked once when a file is opened, for its ParserContext).
 *
 * Selection of a Docker container is sticky: once one of its files is shipped, the container stays shipped for the
 * agent's life, even if its metadata changes later (`docker rename` to an excluded name, a config.v2.json that was
 * unreadable at first and shows labels an exclude matches). A followed file that stopped matching would look to the
 * tailer like a file rotated away, and be half-followed; a container is either shipped or not. A container not
 * shipped is asked about again at every scan, so one whose metadata appears or changes later is decided then, and
 * its files are read from their start. Kubernetes facts come from the path alone and never change.
 */
import { dirname } from 'node:path';
import type { ContainersConfig, InputConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import { DockerMetadata, type DockerContainer } from './docker-metadata.js';
import { compileContainerFilter, containerSelected, globTest, type ContainerFacts, type ContainerFilter } from './filter.js';
import { parseImageReference } from './image-ref.js';
import { ContainerIdLinks, isKubeletArchive, parseKubernetesPath } from './kubernetes-path.js';
import { COMPOSE_SERVICE, DEFAULT_DOCUMENT_LABELS, type ContainerInfo } from './metadata.js';

/** Shipped Docker containers not asked about for this long are forgotten (removed containers). */
const FORGET_AFTER_MS = 10 * 60_000;
const SWEEP_EVERY_MS = 60_000;

interface InputContainers {
  readonly filter: ContainerFilter | null;
  /** Is a label key written to documents? */
  readonly documentLabel: (key: string) => boolean;
  /** Docker containers (by directory) already shipped → when last asked about. */
  readonly shipped: Map<string, number>;
}

export class ContainerCatalog {
  private readonly docker: DockerMetadata;
  private readonly links = new ContainerIdLinks();
  private readonly byInput = new Map<InputConfig, InputContainers>();
  private sweptAt = 0;

  constructor(
    inputs: readonly InputConfig[],
    logger: Logger,
    private readonly clock: () => number = Date.now,
  ) {
    this.docker = new DockerMetadata(logger, clock);
    for (const input of inputs) if (input.type !== 'django') this.byInput.set(input, compileInput(input.containers));
  }

  /** Does `input` ship the file at `path`? Called before the file is stat'ed or opened. */
  selects(input: InputConfig, path: string): boolean {
    const c = this.byInput.get(input);
    if (c === undefined) return true;
    if (input.type === 'cri') {
      if (isKubeletArchive(path)) return false; // gzip bytes, not log text
      if (this.links.isDockerLog(path)) return false; // a Docker node's /var/log/pods: the docker input's files
      return c.filter === null || containerSelected(kubernetesFacts(path), c.filter);
    }
    if (c.filter === null) return true;
    const now = this.clock();
    this.sweep(now);
    const key = dirname(path);
    if (c.shipped.has(key)) {
      c.shipped.set(key, now);
      return true;
    }
    if (!containerSelected(dockerFacts(this.docker.forLog(path)), c.filter)) return false;
    c.shipped.set(key, now);
    return true;
  }

  /** What the documents of `input`'s file at `path` say of its container; undefined when nothing is known. */
  infoFor(input: InputConfig, path: string): ContainerInfo | undefined {
    const c = this.byInput.get(input);
    if (c === undefined) return undefined;
    if (input.type === 'cri') {
      const k = parseKubernetesPath(path);
      if (k === null) return undefined;
      const id = this.links.find(path, k);
      return {
        ...(id !== undefined && { id }),
        name: k.containerName,
        kubernetes: {
          namespace: k.namespace,
          podName: k.podName,
          ...(k.podUid !== undefined && { podUid: k.podUid }),
          containerName: k.containerName,
        },
      };
    }
    const d = this.docker.forLog(path);
    return d === null ? undefined : dockerInfo(d, c.documentLabel);
  }

  private sweep(now: number): void {
    if (now - this.sweptAt < SWEEP_EVERY_MS) return;
    this.sweptAt = now;
    for (const c of this.byInput.values()) {
      for (const [key, at] of c.shipped) if (now - at > FORGET_AFTER_MS) c.shipped.delete(key);
    }
  }
}

function compileInput(config: ContainersConfig | undefined): InputContainers {
  const hasFilter = config !== undefined && (config.include.length > 0 || config.exclude.length > 0);
  const labelTests = (config?.labels ?? DEFAULT_DOCUMENT_LABELS).map(globTest);
  return {
    filter: hasFilter ? compileContainerFilter(config) : null,
    documentLabel: (key) => labelTests.some((t) => t(key)),
    shipped: new Map(),
  };
}

export function dockerFacts(d: DockerContainer | null): ContainerFacts | null {
  if (d === null) return null;
  return {
    ...(d.name !== undefined && { name: d.name }),
    ...(d.image !== undefined && { image: d.image, imageName: parseImageReference(d.image)?.name ?? d.image }),
    labels: d.labels,
  };
}

function kubernetesFacts(path: string): ContainerFacts | null {
  const k = parseKubernetesPath(path);
  return k === null ? null : { namespace: k.namespace, pod: k.podName, container: k.containerName };
}

/** The labels kubelet puts on the containers it runs (pkg/kubelet/types/labels.go); Docker nodes keep them. */
const K8S_NAMESPACE = 'io.kubernetes.pod.namespace';
const K8S_POD = 'io.kubernetes.pod.name';
const K8S_POD_UID = 'io.kubernetes.pod.uid';
const K8S_CONTAINER = 'io.kubernetes.container.name';

/**
 * A Docker container's document facts: the chosen labels only, service.name from the compose service. A container
 * kubelet runs on a Docker node (cri-dockerd) carries its pod's facts as labels: they become kubernetes.*, and its
 * Kubernetes container name is container.name (Docker's own name for it, `k8s_<container>_<pod>_…`, says no more),
 * so its documents read as they do from a containerd node.
 */
export function dockerInfo(d: DockerContainer, documentLabel: (key: string) => boolean): ContainerInfo {
  const labels: Record<string, string> = {};
  let any = false;
  for (const [key, value] of Object.entries(d.labels)) {
    if (!documentLabel(key)) continue;
    labels[key] = value;
    any = true;
  }
  const image = d.image === undefined ? null : parseImageReference(d.image);
  const service = d.labels[COMPOSE_SERVICE];
  const namespace = d.labels[K8S_NAMESPACE];
  const podName = d.labels[K8S_POD];
  const containerName = d.labels[K8S_CONTAINER];
  const podUid = d.labels[K8S_POD_UID];
  const kubernetes =
    namespace && podName && containerName ? { namespace, podName, ...(podUid && { podUid }), containerName } : undefined;
  const name = kubernetes?.containerName ?? d.name;
  return {
    id: d.id,
    ...(name !== undefined && { name }),
    ...(image !== null && { image }),
    ...(any && { labels }),
    ...(service !== undefined && service !== '' && { service }),
    ...(kubernetes !== undefined && { kubernetes }),
  };
}
