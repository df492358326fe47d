/**
 * An image reference as Docker keeps it in Config.Image (what the operator wrote: `nginx`, `nginx:1.27`,
 * `registry.example.com:5000/team/app:1.4.2`, `app@sha256:…`, `app:1.4.2@sha256:…`) → container.image.name / tag.
 *
 * The grammar (github.com/distribution/reference): `[host[:port]/]path[:tag][@algorithm:hex]`. The tag is the part
 * after the last ":" that follows the last "/" — a ":" before the last "/" is a registry port. A container created
 * from an image id (`sha256:<64 hex>`, or the bare hex) has no name to split: the id is kept whole as the name.
 */
import type { ContainerImage } from './metadata.js';

const IMAGE_ID = /^(?:sha256:)?[0-9a-f]{64}$/;

export function parseImageReference(reference: string): ContainerImage | null {
  if (reference === '') return null;
  if (IMAGE_ID.test(reference)) return { name: reference };
  let rest = reference;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (digest === '') digest = undefined;
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (tag === '') tag = undefined;
  }
  if (rest === '') return null;
  return { name: rest, ...(tag !== undefined && { tag }), ...(digest !== undefined && { digest }) };
}
