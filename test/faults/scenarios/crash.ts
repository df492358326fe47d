/**
 * SIGKILL mid-stream, then a restart, for each sink: nothing lost; what is sent again is what the sink can take —
 * Elasticsearch and Cloud Logging deduplicate by id, CloudWatch Logs and the file may repeat at most the batch in
 * flight per stream (issue 11 §3: the acknowledgement must be durable before more of the file is sent).
 */
import { sleep, until } from '../harness.js';
import { djangoFile, djangoInput, djangoWriter, drainAndStop, following, ledgerBytes, type FaultScenario, type WriterOptions } from '../scenario.js';
import { deadLettered, SINKS } from '../sinks.js';

/** batch.max_events (its default): the most one batch holds, and what a crash may repeat per stream. */
const BATCH = 1000;

/** `lines`: what the writer writes besides the default python-json-logger lines. */
function crashScenario(kind: keyof typeof SINKS, label: string, lines: Pick<WriterOptions, 'format' | 'tracebackEvery'> = {}): FaultScenario {
  return {
    name: `SIGKILL + restart → ${label}`,
    timeout: { ci: 120, full: 300 },
    async run(run) {
      const sink = await SINKS[kind](run);
      const file = djangoFile(run);
      const config = run.config({ inputs: [djangoInput(file)], sink: sink.config, batch: { max_events: BATCH } });
      const first = run.agent(config);
      await following(sink, file);
      const count = run.pick(10_000, 20_000);
      const killAt = run.pick(3000, 6000);
      const writer = djangoWriter(run, file, { count, rate: 2000, maxBytes: 400_000, backups: 50, ...lines });
      const failures: string[] = [];
      if (!(await until(() => sink.count() >= killAt, 60_000))) failures.push(`${killAt} records were not stored within 60 s`);
      first.signal('SIGKILL');
      await first.exited;
      await sleep(300); // a request that reached the server before the kill is stored by now
      const storedAtKill = sink.count();
      const second = run.agent(config);
      await writer.done;
      failures.push(...(await drainAndStop(second, sink, count, { timeoutMs: 90_000 })));
      const observed = sink.observe();
      const notes = [`killed with ${storedAtKill.toLocaleString('en-US')} stored`];
      return {
        run,
        written: count,
        bytesOf: ledgerBytes(run),
        observed,
        deadLettered: deadLettered(run),
        repeats: { kind: 'crash', dedupes: sink.dedupes, perStream: BATCH },
        failures,
        notes,
      };
    },
  };
}

export const crashElasticsearch = crashScenario('elasticsearch', 'Elasticsearch');
export const crashCloudWatch = crashScenario('cloudwatch', 'CloudWatch Logs');
export const crashCloudLogging = crashScenario('cloud_logging', 'Cloud Logging');
export const crashFile = crashScenario('file', 'file');
/**
 * Django's verbose text layout, a traceback every 7th record: first lines are held as bytes until the next one comes
 * (parse/django-text-bytes.ts), and a traceback hands the held line to the string way; a kill finds records held
 * both ways, and the checkpoint must keep each of them.
 */
export const crashTextCloudWatch = crashScenario('cloudwatch', 'CloudWatch Logs, Django text with tracebacks', { format: 'text', tracebackEvery: 7 });
