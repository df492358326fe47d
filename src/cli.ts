import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { runAgent } from './agent.js';
import { loadConfig } from './config/index.js';
import { ConfigError } from './config/errors.js';
import { createLogger, LOG_LEVELS, type LogLevel } from './log.js';
import { collectStatus, formatStatus, StatusError } from './status.js';

const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string })
  .version;

/** A config problem: one line naming the key and the problem, exit 1. */
function configOrExit(file: string): ReturnType<typeof loadConfig> {
  try {
    return loadConfig(file);
  } catch (err) {
    const message = err instanceof ConfigError ? err.message : `config: ${(err as Error).message}`;
    process.stderr.write(`logship: ${message}\n`);
    process.exit(1);
  }
}

const program = new Command()
  .name('logship')
  .description('Follow Django and Docker logs through rotation and ship them: nothing lost, nothing twice.')
  .version(version, '-v, --version')
  .showHelpAfterError();

program
  .command('run')
  .description('follow the configured files and ship their records until SIGTERM/SIGINT')
  .requiredOption('-c, --config <file>', 'config file (YAML)')
  .option('--once', 'ship everything the files hold now, commit checkpoints and exit (non-zero if delivery failed)')
  .addOption(new Option('--log-level <level>', 'level of the agent\'s own log (JSON lines on stderr)').choices(LOG_LEVELS).default('info'))
  .action(async (opts: { config: string; once?: boolean; logLevel: LogLevel }) => {
    const config = configOrExit(opts.config);
    const logger = createLogger(opts.logLevel);
    const controller = new AbortController();
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals): void => {
      signals++;
      if (signals > 1) {
        logger.warn('second signal: exiting without waiting for delivery', { signal });
        process.exit(1);
      }
      logger.info('signal received', { signal });
      controller.abort();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    try {
      process.exitCode = await runAgent(config, logger, { once: opts.once === true, signal: controller.signal });
    } catch (err) {
      logger.error('logship failed', { error: err });
      process.exitCode = 1;
    }
    // Anything still scheduled (a socket's keep-alive, a watcher) must not hold the process after the sequence ended.
    setTimeout(() => process.exit(), 100).unref();
  });

program
  .command('check')
  .description('validate a config file: exit 1 with one line naming the key and the problem')
  .requiredOption('-c, --config <file>', 'config file (YAML)')
  .action((opts: { config: string }) => {
    const config = configOrExit(opts.config);
    const inputs = config.inputs.map((i) => `${i.type} (${i.paths.length} path${i.paths.length === 1 ? '' : 's'})`);
    process.stdout.write(`${opts.config}: ok — inputs: ${inputs.join(', ')}; sink: ${config.sink.type}\n`);
  });

program
  .command('status')
  .description('per file from the registry: path, identity, size, committed offset, bytes behind, last acknowledgement (works while the agent runs)')
  .requiredOption('-c, --config <file>', 'config file (YAML)')
  .option('--json', 'print JSON for scripts instead of a table')
  .action(async (opts: { config: string; json?: boolean }) => {
    const config = configOrExit(opts.config);
    try {
      const report = await collectStatus(config);
      process.stdout.write(opts.json ? JSON.stringify(report, null, 2) + '\n' : formatStatus(report));
    } catch (err) {
      if (!(err instanceof StatusError)) throw err;
      process.stderr.write(`logship: ${err.message}\n`);
      process.exitCode = 1;
    }
  });

await program.parseAsync(process.argv);
