// Build step (npm run build): the Elasticsearch client and what it loads (@elastic/transport, undici, …) bundled into
// one file, dist/vendor/elasticsearch.cjs, and V8's code cache of it after it ran, elasticsearch.cjs.cache. Loaded by
// sinks/elasticsearch/client-module.ts. Why: loading the client from ~450 files took ~170 ms of CPU at every start
// (resolving, reading and compiling each), a tenth of a short catch-up's CPU; one file with its code cache takes ~45.
// The client is unchanged: the same package, same version (the lockfile's), its modules in one file. apache-arrow
// stays outside (the client's ES|QL helpers; lazy-arrow.ts defers it).
import { build } from 'esbuild';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = join(root, 'dist', 'vendor', 'elasticsearch.cjs');
mkdirSync(dirname(out), { recursive: true });
await build({
  stdin: { contents: "module.exports = require('@elastic/elasticsearch');", resolveDir: root, loader: 'js' },
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  outfile: out,
  external: ['apache-arrow', 'apache-arrow/*'],
  logLevel: 'warning',
  legalComments: 'eof',
});

// Run once as the agent runs it (same wrapper), then keep the code V8 compiled, lazily compiled functions included.
const source = readFileSync(out, 'utf8');
const script = new Script(wrapCommonJs(source), { filename: out });
const module = { exports: {} };
script.runInThisContext()(module.exports, createRequire(out), module, out, dirname(out));
if (typeof module.exports.Client !== 'function') throw new Error('the bundled client exports no Client');
writeFileSync(`${out}.cache`, script.createCachedData());

/** The CommonJS wrapper, as sinks/elasticsearch/client-module.ts applies it (the cache is of this exact text). */
function wrapCommonJs(text) {
  return `(function (exports, require, module, __filename, __dirname) {${text}\n})`;
}
