/**
 * What `logship check` and `logship run` both do before anything runs, so that they accept exactly the same configs
 * (issue #13): load and validate the config (loadConfig), make sure data_dir can be created and written, and make
 * the sink (offline: its client is constructed, nothing is connected). A problem is a ConfigError: one line naming
 * the key, exit 1, from either command. Also the warnings both show: `check` prints them, `run` logs them once at
 * start.
 */
import { closeSync, openSync, rmdirSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, describeErrno, maskCredentialsIn } from './config/errors.js';
import type { Env } from './config/interpolate.js';
import { loadConfig } from './config/load.js';
import type { Config } from './config/types.js';
import { makeDirectorySync } from './fs/make-dir.js';
import type { Logger } from './log.js';
import { securityWarnings, type ConfigWarning } from './config/warnings.js';
import type { Sink } from './sink.js';
import { createSink } from '../sinks/index.js';

export interface Preflight {
  readonly config: Config;
  /** Made, not started: `run` starts it, `check` closes it. */
  readonly sink: Sink;
  readonly warnings: readonly ConfigWarning[];
}

/**
 * `mode` 'check' leaves no trace (a data_dir it had to create is removed again); 'run' keeps data_dir. `logger` is
 * the one the sink will log with.
 */
export async function preflight(file: string, mode: 'check' | 'run', logger: Logger, env: Env = process.env): Promise<Preflight> {
  const config = loadConfig(file, env);
  checkDataDir(config.dataDir, mode === 'check');
  const sink = await makeSink(config, logger);
  return { config, sink, warnings: securityWarnings(config) };
}

/**
 * data_dir can be created and written: it is made if missing (without Node's recursive mkdir, which spins for ever on
 * a path under /proc), and a file is written in it and removed. With `undo`, directories made here are removed too.
 */
export function checkDataDir(dir: string, undo: boolean): void {
  let made: string[];
  try {
    made = makeDirectorySync(dir);
  } catch (err) {
    throw new ConfigError('data_dir', `cannot create the directory ${dir}: ${describeErrno(err)}`);
  }
  const probe = join(dir, `.logship-check-${process.pid}`);
  try {
    const fd = openSync(probe, 'wx');
    try {
      writeSync(fd, 'logship checks that data_dir is writable\n');
    } finally {
      closeSync(fd);
      unlinkSync(probe);
    }
  } catch (err) {
    throw new ConfigError('data_dir', `cannot write in ${dir}: ${describeErrno(err)}`);
  } finally {
    if (undo) for (const d of made.reverse()) rmdirSync(d);
  }
}

/**
 * The sink as `run` makes it. A sink throws only for configuration it cannot use (a CA file it cannot read, a URL its
 * client refuses): reported as the key it names (`sink.tls.ca: …`), else as `sink`, credentials masked.
 */
async function makeSink(config: Config, logger: Logger): Promise<Sink> {
  try {
    return await createSink(config.sink, { logger, hostName: config.hostName });
  } catch (err) {
    const message = maskCredentialsIn(err instanceof Error ? err.message : String(err));
    const named = /^(sink(?:\.[a-z_]+)*): (.*)$/s.exec(message);
    throw named ? new ConfigError(named[1]!, named[2]!) : new ConfigError('sink', message);
  }
}
