import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { LOG_LEVELS, type LogLevel } from './log.js';
import { superviseAgent } from './supervise.js';

// Modules of the agent are loaded by the commands that need them: `run` loads them in the agent's thread only.
const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string })
  .version;

/** A config problem: one line naming the key and the problem, exit 1. */
async function configOrExit(file: string): Promise<import('./config/types.js').Config> {
  const { loadConfig } = await import('./config/index.js');
  const { configProblemLine } = await import('./config/errors.js');
  try {
    return loadConfig(file);
  } catch (err) {
    process.stderr.write(configProblemLine(err));
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
  .description('follow the configured files and ship their records until SIGTERM, SIGINT or SIGHUP')
  .requiredOption('-c, --config <file>', 'config file (YAML)')
  .option('--once', 'ship everything the files hold now, commit checkpoints and exit (non-zero if delivery failed)')
  .addOption(new Option('--log-level <level>', 'level of the agent\'s own log (JSON lines on stderr)').choices(LOG_LEVELS).default('info'))
  .action(async (opts: { config: string; once?: boolean; logLevel: LogLevel }) => {
    const code = await superviseAgent({ configFile: opts.config, once: opts.once === true, logLevel: opts.logLevel });
    // Nothing else may hold the process once the agent's thread has ended, and nothing is left to write (every log
    // line is written synchronously): exit now, not when the event loop drains (40–80 ms of every run's end).
    process.exit(code);
  });

program
  .command('check')
  .description('validate a config file: exit 1 with one line naming the key and the problem; warnings do not fail it')
  .requiredOption('-c, --config <file>', 'config file (YAML)')
  .action(async (opts: { config: string }) => {
    const { preflight } = await import('./preflight.js');
    const { configProblemLine } = await import('./config/errors.js');
    const { silentLogger } = await import('./log.js');
    const { patternsMatchingNothing } = await import('./tail/unmatched.js');
    let prepared: Awaited<ReturnType<typeof preflight>>;
    try {
      prepared = await preflight(opts.config, 'check', silentLogger);
    } catch (err) {
      process.stderr.write(configProblemLine(err));
      process.exit(1);
    }
    const { config, sink, warnings } = prepared;
    await sink.close();
    const lines = warnings.map((w) => `${w.key}: ${w.message}`);
    for (const u of await patternsMatchingNothing(config.inputs)) {
      lines.push(`inputs[${u.input}].paths[${u.index}]: ${JSON.stringify(u.pattern)} matches no file now`);
    }
    for (const line of lines) process.stderr.write(`logship: warning: ${line}\n`);
    const inputs = config.inputs.map((i) => `${i.type} (${i.paths.length} path${i.paths.length === 1 ? '' : 's'})`);
    process.stdout.write(`${opts.config}: ok — inputs: ${inputs.join(', ')}; sink: ${config.sink.type}\n`);
  });

program
  .command('status')
  .description('per file from the registry: path, identity, size, committed offset, bytes behind, last acknowledgement (works while the agent runs)')
  .requiredOption('-c, --config <file>', 'config file (YAML)')
  .option('--json', 'print JSON for scripts instead of a table')
  .action(async (opts: { config: string; json?: boolean }) => {
    const config = await configOrExit(opts.config);
    const { collectStatus, formatStatus, printable, StatusError } = await import('./status.js');
    try {
      const report = await collectStatus(config);
      process.stdout.write(opts.json ? JSON.stringify(report, null, 2) + '\n' : formatStatus(report));
    } catch (err) {
      if (!(err instanceof StatusError)) throw err;
      process.stderr.write(`logship: ${printable(err.message)}\n`);
      process.exitCode = 1;
    }
  });

await program.parseAsync(process.argv);
