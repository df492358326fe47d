/**
 * Loading @elastic/elasticsearch requires apache-arrow (about 150 modules) for the client's ES|QL helpers
 * (`toArrowTable`, `toArrowReader`), which logship never calls. That was about 150 ms of CPU at every start, a fifth
 * of the agent's start-up (measured: 0.8 CPU-s from spawn to a one-line `run --once`), and it counts in every short
 * catch-up. Importing this module first puts a stand-in in the CommonJS cache under the file the client requires: the
 * real module loads the first time anything is read from the stand-in. The client is unchanged, Arrow helpers
 * included; if a future client stops requiring that file, the stand-in is simply never used.
 */
import { createRequire } from 'node:module';

const ARROW = 'apache-arrow/Arrow.node';
const clientRequire = createRequire(createRequire(import.meta.url).resolve('@elastic/elasticsearch'));

/** Is the stand-in (not the real module) what the client gets? For the tests. */
export let arrowDeferred = false;

let arrowPath: string | null = null;
try {
  arrowPath = clientRequire.resolve(ARROW);
} catch {
  // Not installed where the client looks: nothing to defer.
}
if (arrowPath !== null && clientRequire.cache[arrowPath] === undefined) {
  const path = arrowPath;
  let real: Record<PropertyKey, unknown> | null = null;
  const load = (): Record<PropertyKey, unknown> => {
    if (real === null) {
      delete clientRequire.cache[path];
      real = clientRequire(ARROW) as Record<PropertyKey, unknown>;
      arrowDeferred = false;
    }
    return real;
  };
  const standIn = new Proxy({} as Record<PropertyKey, unknown>, {
    get: (_, key) => load()[key],
    has: (_, key) => key in load(),
    ownKeys: () => Reflect.ownKeys(load()),
    getOwnPropertyDescriptor: (_, key) => Reflect.getOwnPropertyDescriptor(load(), key),
  });
  clientRequire.cache[path] = { id: path, filename: path, loaded: true, exports: standIn, children: [], paths: [] } as unknown as NodeJS.Module;
  arrowDeferred = true;
}
