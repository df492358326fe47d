/**
 * What logship knows about the container a log file belongs to, in the shape documents carry it, and its JSON text.
 *
 * It is made on the agent thread when a file is opened (from Docker's config.v2.json, or from a Kubernetes log path),
 * passed to the parse thread inside the file's ParserContext (structured clone: plain data only), and turned into
 * JSON text once per parser: the per-line cost of container fields is nothing.
 *
 * In documents (ECS names):
 *   "container":{"id","name","image":{"name","tag","hash":{"all":[digest]}},"labels":{…}},"service":{"name"},
 *   "kubernetes":{"namespace","pod":{"name","uid"},"container":{"name"}}
 *
 * Label keys are written with their dots replaced by "_" (`com.docker.compose.service` → `com_docker_compose_service`),
 * as Beats do (`labels.dedot`): Elasticsearch reads dots in a field name as object paths, so the compose labels
 * `com.docker.compose.project` (a string) and `com.docker.compose.project.config_files` would ask for one field to be
 * both a string and an object, and every document carrying both would be refused (mapper_parsing_exception).
 */

/** The compose labels: documents carry them unless inputs[].containers.labels says otherwise. */
export const COMPOSE_PROJECT = 'com.docker.compose.project';
export const COMPOSE_SERVICE = 'com.docker.compose.service';
export const DEFAULT_DOCUMENT_LABELS: readonly string[] = [COMPOSE_PROJECT, COMPOSE_SERVICE];

export interface ContainerImage {
  /** The repository, with its registry when one was named: `registry.example.com:5000/team/app`. */
  readonly name: string;
  /** The tag when the reference names one (`1.4.2`); absent for `app` or `app@sha256:…`. */
  readonly tag?: string;
  /** The digest when the reference pins one (`app@sha256:…`): container.image.hash.all. */
  readonly digest?: string;
}

export interface KubernetesInfo {
  readonly namespace: string;
  readonly podName: string;
  /** Absent for a /var/log/containers path, which does not name it. */
  readonly podUid?: string;
  readonly containerName: string;
}

/** The container facts a file's documents carry. Every field is optional: each is written only when known. */
export interface ContainerInfo {
  /** 64 hex digits. */
  readonly id?: string;
  /** Docker's name without its leading "/", or the Kubernetes container name. */
  readonly name?: string;
  readonly image?: ContainerImage;
  /** Labels chosen for documents (inputs[].containers.labels), with their keys as the container has them. */
  readonly labels?: Readonly<Record<string, string>>;
  /** service.name: the compose service. */
  readonly service?: string;
  readonly kubernetes?: KubernetesInfo;
}

const quote = JSON.stringify as (s: string) => string;

/** A label key as a document field name: dots become "_" (see the header). */
export function dedot(key: string): string {
  return key.includes('.') ? key.replaceAll('.', '_') : key;
}

/**
 * The JSON members (each starting with ",") that put `info` into a document: container, service, kubernetes.
 * `extraLabels` (a json-file entry's `attrs`) are added to container.labels, over labels of the same key. A container
 * with nothing known gives ''.
 */
export function containerMembers(info: ContainerInfo | undefined, extraLabels?: Readonly<Record<string, string>>): string {
  if (info === undefined && extraLabels === undefined) return '';
  const parts: string[] = [];
  if (info?.id !== undefined) parts.push(`"id":${quote(info.id)}`);
  if (info?.name !== undefined) parts.push(`"name":${quote(info.name)}`);
  if (info?.image !== undefined) {
    const { name, tag, digest } = info.image;
    const tagMember = tag === undefined ? '' : `,"tag":${quote(tag)}`;
    const hash = digest === undefined ? '' : `,"hash":{"all":[${quote(digest)}]}`;
    parts.push(`"image":{"name":${quote(name)}${tagMember}${hash}}`);
  }
  const labels = labelMembers({ ...info?.labels, ...extraLabels });
  if (labels !== '') parts.push(`"labels":{${labels}}`);
  let out = parts.length === 0 ? '' : `,"container":{${parts.join(',')}}`;
  if (info?.service !== undefined) out += `,"service":{"name":${quote(info.service)}}`;
  const k = info?.kubernetes;
  if (k !== undefined) {
    const uid = k.podUid === undefined ? '' : `,"uid":${quote(k.podUid)}`;
    out +=
      `,"kubernetes":{"namespace":${quote(k.namespace)},"pod":{"name":${quote(k.podName)}${uid}}` +
      `,"container":{"name":${quote(k.containerName)}}}`;
  }
  return out;
}

/** Labels as JSON members, keys dedotted and sorted (documents stay the same whatever order the labels came in). */
function labelMembers(labels: Readonly<Record<string, string>>): string {
  const byField = new Map<string, string>();
  for (const [key, value] of Object.entries(labels)) byField.set(dedot(key), value);
  return [...byField.keys()]
    .sort()
    .map((field) => `${quote(field)}:${quote(byField.get(field)!)}`)
    .join(',');
}
