/**
 * A line's first pieces handed to the next generation of a container log (a rotation between two pieces) wait there
 * for the rest as long as they would have in the rotated file: multiline_timeout counts from the arrival of the last
 * piece, not from when the next file's parser was made. Found on rereading: the imported pieces of the Docker parser
 * kept an arrival time of 0, and the CRI parser's that of the next parser's last line (0 before its first), so a tick
 * of the next file before the writer's next piece shipped the first pieces as a record of their own (tagged
 * partial) and the rest as another.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCriParser } from '../../src/parse/cri.js';
import { createDockerParser } from '../../src/parse/docker.js';
import type { ParsedRecord } from '../../src/parse/document.js';
import type { CarriedPieces, Line, RecordParser } from '../../src/parse/types.js';
import { criLines } from '../support/kubelet.js';
import { goJsonString } from '../support/docker-json-file.js';
import { decoded, parserContext } from '../support/parsing.js';

const CID = '0123456789abcdef'.repeat(4);
const DOCKER_PATH = `/var/lib/docker/containers/${CID}/${CID}-json.log`;
const CRI_PATH = '/var/log/pods/shop_web-0_0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b/django/0.log';
/** A wall clock well past the epoch, as the agent's is. */
const NOW = Date.UTC(2026, 11, 6, 12, 0, 0);
const TIMEOUT_MS = 1000;

interface Carrier extends RecordParser {
  exportCarried(): CarriedPieces[];
  importCarried(carried: CarriedPieces, link: number, localStart: number): void;
}

function linesOf(buf: Buffer): Line[] {
  const out: Line[] = [];
  let start = 0;
  for (let nl = buf.indexOf(10); nl >= 0; nl = buf.indexOf(10, start)) {
    out.push({ text: buf.toString('utf8', start, nl), start, end: nl + 1, truncated: false, invalidUtf8: false, partial: false });
    start = nl + 1;
  }
  return out;
}

/** A json-file entry as dockerd writes it. */
function dockerEntry(log: string): string {
  return `{"log":${goJsonString(Buffer.from(log))},"stream":"stdout","time":"2026-12-06T12:00:00.123456789Z"}\n`;
}

const kinds: { name: string; make: (emit: (r: ParsedRecord) => void) => Carrier; first: Buffer; rest: Buffer }[] = [
  {
    name: 'Docker json-file',
    make: (emit) => createDockerParser(parserContext(DOCKER_PATH, { multilineTimeoutMs: TIMEOUT_MS }), CID, emit) as Carrier,
    first: Buffer.from(dockerEntry('x'.repeat(100))), // no "\n" at the end of its log: a first piece
    rest: Buffer.from(dockerEntry('y end\n')),
  },
  {
    name: 'CRI',
    make: (emit) => createCriParser(parserContext(CRI_PATH, { multilineTimeoutMs: TIMEOUT_MS }), emit) as Carrier,
    first: criLines('stdout', 'x'.repeat(100), '2026-12-06T12:00:00.123456789Z', { ended: false }),
    rest: criLines('stdout', 'y end', '2026-12-06T12:00:00.223456789Z'),
  },
];

for (const k of kinds) {
  test(`${k.name}: pieces carried into the next file wait out multiline_timeout from their last piece`, () => {
    const records: ParsedRecord[] = [];
    const rotated = k.make((r) => records.push(r));
    for (const l of linesOf(k.first)) rotated.push(l, NOW);
    rotated.flush(NOW + TIMEOUT_MS / 2, false);
    assert.equal(records.length, 0, 'the first piece is held in the rotated file');
    const carried = rotated.exportCarried();
    assert.equal(carried.length, 1);

    const next = k.make((r) => records.push(r));
    next.importCarried(carried[0]!, 7, 0);
    // A tick of the next file, read to its end before the writer's next piece: within the timeout of the last piece.
    next.flush(NOW + TIMEOUT_MS / 2, false);
    assert.equal(records.length, 0, 'the carried piece is not shipped before multiline_timeout has passed');
    for (const l of linesOf(k.rest)) next.push(l, NOW + TIMEOUT_MS * 0.9);
    next.flush(NOW + TIMEOUT_MS * 10, true);
    assert.deepEqual(
      records.map((r) => decoded(r).doc.message),
      ['x'.repeat(100) + 'y end'],
      'one record: the pieces joined across the rotation',
    );
    assert.equal(records[0]!.link, 7);

    // And past the timeout, the carried piece is shipped as it is, tagged: the writer did not go on.
    const late: ParsedRecord[] = [];
    const again = k.make((r) => late.push(r));
    for (const l of linesOf(k.first)) again.push(l, NOW);
    const stale = k.make((r) => late.push(r));
    stale.importCarried(again.exportCarried()[0]!, 9, 0);
    stale.flush(NOW + TIMEOUT_MS + 1, false);
    assert.deepEqual(late.map((r) => decoded(r).doc.message), ['x'.repeat(100)]);
    assert.deepEqual(decoded(late[0]!).doc['tags'], ['_logship_partial_line_timeout']);
  });
}
