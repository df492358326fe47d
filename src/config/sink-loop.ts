/**
 * A `file` sink whose output an input would read: logship would ship its own documents, nested one level deeper
 * each time round (602 KB of nesting in 6 s, issue #13). Refused by the config loader, so by `check` and `run` alike.
 */
import { basename } from 'node:path';
import picomatch from 'picomatch';
import { ConfigError } from './errors.js';
import type { Config } from './types.js';

/** Throws a ConfigError naming sink.path when an input matches the file sink's path or one of its rotated generations. */
export function checkSinkNotFollowed(config: Pick<Config, 'inputs' | 'sink'>): void {
  if (config.sink.type !== 'file') return;
  const { path, maxFiles } = config.sink;
  // The file, then path.1 … path.N as the sink rotates them (see sinks/file/sink.ts).
  const written = [path, ...Array.from({ length: maxFiles }, (_, i) => `${path}.${i + 1}`)];
  config.inputs.forEach((input, i) => {
    // The same rules as discovery (src/tail/discovery.ts): dot files included; excludes by full path or basename.
    const isExcluded = input.exclude.length > 0 ? picomatch(input.exclude, { dot: true }) : null;
    input.paths.forEach((pattern, j) => {
      const matches = picomatch(pattern, { dot: true });
      for (const file of written) {
        if (!matches(file) || (isExcluded !== null && (isExcluded(file) || isExcluded(basename(file))))) continue;
        const what = file === path ? path : `${file}, one of its rotated generations,`;
        throw new ConfigError(
          'sink.path',
          `${what} is matched by inputs[${i}].paths[${j}] (${JSON.stringify(pattern)}): logship would ship its own output again and again; write it outside the inputs' paths, or exclude it`,
        );
      }
    });
  });
}
