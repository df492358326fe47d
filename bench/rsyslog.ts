/**
 * rsyslog (Debian's rsyslog + rsyslog-elasticsearch) on the same corpus and receiver: imfile → mmjsonparse →
 * omelasticsearch in bulk mode. Started in the foreground with its own config and work directory, never as the
 * system daemon. JSON files are parsed and shipped as JSON; the text file is joined on its header lines
 * (startmsg.regex) and shipped as {"message": …}, one document per record, as logship does.
 * Tuned for it, not against it: omelasticsearch 8.2302's cost per batch grows faster than the batch, so small
 * batches win (measured here on 1M JSON lines: 1000 → 10k events/s, 128 → 52k, 32 → 82k, 16 → 72k).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CorpusFile } from './corpus.js';
import { runPeerProcess, type PeerRun } from './peer-process.js';
import type { Receiver } from './receiver-client.js';

export const RSYSLOGD = '/usr/sbin/rsyslogd';

const QUEUE = 'queue.type="LinkedList" queue.size="100000" queue.dequeueBatchSize="32"';

function config(work: string, files: readonly CorpusFile[], port: number): string {
  const inputs = files.map(({ kind, path }) =>
    kind === 'django-text'
      ? `input(type="imfile" file="${path}" tag="bench" ruleset="text" addMetadata="off" startmsg.regex="^(INFO|ERROR|WARNING|DEBUG|CRITICAL) " readTimeout="1")`
      : `input(type="imfile" file="${path}" tag="bench" ruleset="json" addMetadata="off")`,
  );
  const ship = (template: string): string =>
    `action(type="omelasticsearch" server="127.0.0.1" serverport="${port}" searchIndex="logs-bench-default"
         template="${template}" bulkmode="on" maxbytes="5m" action.resumeRetryCount="-1"
         ${QUEUE})`;
  return `global(workDirectory="${work}" maxMessageSize="128k")
module(load="imfile" mode="inotify")
module(load="mmjsonparse")
module(load="omelasticsearch")
template(name="doc" type="string" string="%$!all-json%")
template(name="text" type="list") { constant(value="{\\"message\\":\\"") property(name="msg" format="json") constant(value="\\"}") }
${inputs.join('\n')}
${files.some((f) => f.kind !== 'django-text') ? `ruleset(name="json" ${QUEUE}) {\n  action(type="mmjsonparse" cookie="")\n  ${ship('doc')}\n}` : ''}
${files.some((f) => f.kind === 'django-text') ? `ruleset(name="text" ${QUEUE}) {\n  ${ship('text')}\n}` : ''}
`;
}

/** One run from cold (RSYSLOGD must be installed), until the receiver holds one document per record. */
export async function runRsyslog(dir: string, files: readonly CorpusFile[], receiver: Receiver, records: number): Promise<PeerRun> {
  const work = mkdtempSync(join(dir, 'rsyslog-'));
  const conf = join(work, 'rsyslog.conf');
  writeFileSync(conf, config(work, files, receiver.port));
  return runPeerProcess(RSYSLOGD, ['-n', '-f', conf, '-i', join(work, 'rsyslogd.pid')], receiver, records);
}
