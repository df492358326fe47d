/**
 * Fluent Bit (C; tail → es) on the same corpus and receiver, when a binary is present: `--fluent-bit PATH`, or
 * `.peers/bin/fluent-bit` as ../shared/peers/build-fluent-bit.sh leaves it (README "Performance" says how to build
 * it; neither its source nor the binary is in this repository). The configuration is the one issue #15 measured
 * (../shared/peers/fluent-bit.conf.in + fluent-bit-parsers.conf), written here per corpus: near-default settings,
 * 1 s flush, in-memory buffering (64 MB per input), the es output with its default 2 workers, no offset DB (every
 * run reads from the head), no HTTP server; its only peer is the receiver on 127.0.0.1.
 * The text corpus gets Fluent Bit's own multiline parser for Python tracebacks (`multiline.parser python`), which
 * does not join what logship joins: see fluentBitDocuments.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tracebackRecords, type CorpusFile, type CorpusKind } from './corpus.js';
import { runPeerProcess, type PeerRun } from './peer-process.js';
import type { Receiver } from './receiver-client.js';

/** Where ../shared/peers/build-fluent-bit.sh puts the binary, relative to the repository. */
export const DEFAULT_FLUENT_BIT = '.peers/bin/fluent-bit';

/**
 * The binary to run: the one named (which must be executable: a wrong path is an error, not a silent skip), else
 * the default one if present, else null.
 */
export function findFluentBit(named: string | undefined, root: string): string | null {
  if (named !== undefined) {
    try {
      accessSync(named, constants.X_OK);
    } catch {
      throw new Error(`--fluent-bit ${named}: not an executable file`);
    }
    return resolve(named);
  }
  const found = join(root, DEFAULT_FLUENT_BIT);
  return existsSync(found) ? found : null;
}

/** "Fluent Bit v5.1.1", as the binary says it. */
export function fluentBitVersion(binary: string): string {
  return execFileSync(binary, ['--version'], { encoding: 'utf8' }).split('\n')[0]!.trim();
}

/** Same definitions as ../shared/peers/fluent-bit-parsers.conf (stock "docker"; stock json without a time key). */
const PARSERS = `[PARSER]
    Name         json_line
    Format       json

[PARSER]
    Name         docker
    Format       json
    Time_Key     time
    Time_Format  %Y-%m-%dT%H:%M:%S.%L
    Time_Keep    On
`;

/** How each corpus file is read: the JSON files through a parser, the text file through the Python multiline parser. */
const READ_AS: Record<CorpusKind, { tag: string; parse: string }> = {
  'django-json': { tag: 'django', parse: 'Parser            json_line' },
  docker: { tag: 'docker', parse: 'Parser            docker' },
  'django-text': { tag: 'django', parse: 'multiline.parser  python' },
};

function config(work: string, files: readonly CorpusFile[], port: number): string {
  const inputs = files.map(
    ({ kind, path }) => `[INPUT]
    Name              tail
    Tag               ${READ_AS[kind].tag}
    Path              ${path}
    Read_From_Head    On
    ${READ_AS[kind].parse}
    Refresh_Interval  1
    Mem_Buf_Limit     64MB
    Skip_Long_Lines   On
`,
  );
  return `[SERVICE]
    Flush            1
    Grace            2
    Log_Level        info
    Parsers_File     ${join(work, 'parsers.conf')}
    HTTP_Server      Off

${inputs.join('\n')}
[OUTPUT]
    Name                es
    Match               *
    Host                127.0.0.1
    Port                ${port}
    Index               logs-bench
    Suppress_Type_Name  On
    Retry_Limit         False
    # read the whole _bulk response: with the 512k default, responses for a full 2 MB chunk (~5000 items) fail
    # with "cannot increase buffer", and the chunk is retried = sent twice (fluent/fluent-bit#3918, #7676)
    Buffer_Size         False
`;
}

/**
 * The documents Fluent Bit makes of `records` records of a kind. One per record, except the text corpus: Fluent
 * Bit 5.1.1's `python` multiline parser (src/multiline/flb_ml_parser_python.c) starts a record at "Traceback (most
 * recent call last):", so the log line that carries the traceback is a document of its own; and its rules know no
 * Python 3.11+ error-marker line ("    ^^^^"), so the traceback is cut there into three: "Traceback … / File … /
 * code line", the marker line alone, and "File … / code line / exception line". Four documents for a record with a
 * traceback (as run here on the bench corpus), where logship and rsyslog ship one.
 */
export const FLUENT_BIT_DOCUMENTS_PER_TRACEBACK_RECORD = 4;
export function fluentBitDocuments(files: readonly CorpusFile[], recordsPerFile: number): number {
  const tracebacks = files.filter((f) => f.kind === 'django-text').length * tracebackRecords(recordsPerFile);
  return files.length * recordsPerFile + (FLUENT_BIT_DOCUMENTS_PER_TRACEBACK_RECORD - 1) * tracebacks;
}

/** One run from cold, until the receiver holds `expected` documents (fluentBitDocuments). */
export async function runFluentBit(
  binary: string,
  dir: string,
  files: readonly CorpusFile[],
  receiver: Receiver,
  expected: number,
): Promise<PeerRun> {
  const work = mkdtempSync(join(dir, 'fluent-bit-'));
  writeFileSync(join(work, 'parsers.conf'), PARSERS);
  const conf = join(work, 'fluent-bit.conf');
  writeFileSync(conf, config(work, files, receiver.port));
  return runPeerProcess(binary, ['-c', conf], receiver, expected);
}
