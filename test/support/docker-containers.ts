/**
 * Docker container directories as dockerd lays them out under /var/lib/docker/containers/<id>/: config.v2.json and
 * the json-file log.
 *
 * test/containers/fixtures/compose-backend.config.v2.json is the file dockerd 28.5.2 writes for a compose v2 service
 * (`backend` of project `accreditrack`, compose 2.40.3, a bind mount, a published port, on the project network),
 * byte for byte: it was produced by Go's encoding/json from the structs dockerd serialises (container.Container and
 * what it holds, moby v28.5.2: container/container.go, container/state.go, api/types/container/config.go,
 * daemon/network/settings.go, volume/mounts/mounts.go), with the values dockerd sets on create and start (hostname =
 * short id, Path/Args from Cmd, DNSNames from daemon/container_operations.go buildEndpointDNSNames, the bind's
 * MountPoint from volume/mounts/linux_parser.go). Other containers are made from it by changing the fields that
 * identify them.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const composeConfig = resolve(import.meta.dirname, '../containers/fixtures/compose-backend.config.v2.json');
export const COMPOSE_CONTAINER_ID = '7c0a3e1f5b9d4c2e8a6f1b3d5e7c9a0b2d4f6e8a1c3b5d7f9e0a2c4b6d8f1e3a';

export interface ContainerSpec {
  readonly id: string;
  readonly name: string;
  readonly image: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** Go's encoding/json escapes these in strings (SetEscapeHTML is on by default). */
function goJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) + '\n';
}

/** config.v2.json for another container, made from the compose fixture. */
export function configFor(spec: ContainerSpec): string {
  const c = JSON.parse(readFileSync(composeConfig, 'utf8')) as Record<string, any>;
  const dir = `/var/lib/docker/containers/${spec.id}`;
  c['ID'] = spec.id;
  c['Name'] = `/${spec.name}`;
  c['Config']['Hostname'] = spec.id.slice(0, 12);
  c['Config']['Image'] = spec.image;
  c['Config']['Labels'] = spec.labels;
  c['LogPath'] = `${dir}/${spec.id}-json.log`;
  c['HostnamePath'] = `${dir}/hostname`;
  c['HostsPath'] = `${dir}/hosts`;
  c['ResolvConfPath'] = `${dir}/resolv.conf`;
  return goJson(c);
}

/**
 * Makes `<root>/<id>/` with config.v2.json (the fixture's bytes when no spec is given) and the json-file log (empty
 * unless it exists); returns their paths.
 */
export function placeContainer(root: string, spec?: ContainerSpec): { dir: string; log: string; id: string } {
  const id = spec?.id ?? COMPOSE_CONTAINER_ID;
  const dir = join(root, id);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.v2.json'), spec === undefined ? readFileSync(composeConfig) : configFor(spec));
  const log = join(dir, `${id}-json.log`);
  if (!existsSync(log)) writeFileSync(log, '');
  return { dir, log, id };
}

/** Compose v2's labels for service `service` of `project` (what compose 2.40 sets on every service container). */
export function composeLabels(project: string, service: string): Record<string, string> {
  return {
    'com.docker.compose.config-hash': 'e9e6ff8e594f3a8c77b688e35f3fe9163fe99c66597b19bdd03f9256d630f515',
    'com.docker.compose.container-number': '1',
    'com.docker.compose.depends_on': '',
    'com.docker.compose.image': 'sha256:28bd5fe8b56d1bd048e5babf5b10710ebe0bae67db86916198a6eec434943f8b',
    'com.docker.compose.oneoff': 'False',
    'com.docker.compose.project': project,
    'com.docker.compose.project.config_files': `/srv/${project}/docker-compose.yml`,
    'com.docker.compose.project.working_dir': `/srv/${project}`,
    'com.docker.compose.service': service,
    'com.docker.compose.version': '2.40.3',
  };
}
