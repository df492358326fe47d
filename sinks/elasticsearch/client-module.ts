/**
 * The Elasticsearch client module: from dist/vendor/elasticsearch.cjs with V8's code cache when the build made them
 * (src/vendor/build.mjs), else the package as Node loads it (running from source, as the unit tests do).
 *
 * Why: loading the client from its ~450 files cost ~170 ms of CPU at every start, a tenth of a short catch-up's CPU;
 * the bundle with its code cache costs ~45. Every module of this sink takes the client from here, so that classes
 * and errors (`instanceof`) are the ones the client uses.
 */
import './lazy-arrow.js';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

type ElasticsearchModule = typeof import('@elastic/elasticsearch');

/** How the client was loaded, for the tests: bundled, whether V8 took the code cache, why a bundle was not used. */
export const clientLoad: { bundled: boolean; cacheRejected: boolean; bundleError: string | null } = {
  bundled: false,
  cacheRejected: false,
  bundleError: null,
};

function loadBundled(): ElasticsearchModule | null {
  // dist/sinks/elasticsearch/client-module.js → dist/vendor/elasticsearch.cjs; from source, no such file.
  const file = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'vendor', 'elasticsearch.cjs');
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(`${file}.cache`);
  } catch {
    // Compiled without it: correct, only slower.
  }
  try {
    // The wrapper must be the build's (src/vendor/build.mjs): V8 checks the cache against this exact text.
    const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: file, ...(cachedData && { cachedData }) });
    const module = { exports: {} as ElasticsearchModule };
    (script.runInThisContext() as (...args: unknown[]) => void)(module.exports, createRequire(file), module, file, dirname(file));
    clientLoad.bundled = true;
    clientLoad.cacheRejected = cachedData === undefined || script.cachedDataRejected === true;
    return module.exports;
  } catch (err) {
    // A damaged build (a file cut short): the package itself still is the client, only slower to load.
    clientLoad.bundleError = (err as Error).message;
    return null;
  }
}

export const elasticsearch: ElasticsearchModule = loadBundled() ?? (createRequire(import.meta.url)('@elastic/elasticsearch') as ElasticsearchModule);
