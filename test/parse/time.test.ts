import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createTimestampReader, isoFromDocker, isoFromEpochSeconds, isValidTimezone } from '../../src/parse/time.js';

describe('createTimestampReader', () => {
  const paris = createTimestampReader('Europe/Paris');

  it('reads asctime with comma, dot, no fraction and T separator', () => {
    assert.equal(paris('2026-11-27 12:00:00,123'), '2026-11-27T12:00:00.123+01:00');
    assert.equal(paris('2026-11-27 12:00:00.123'), '2026-11-27T12:00:00.123+01:00');
    assert.equal(paris('2026-11-27 12:00:00'), '2026-11-27T12:00:00.000+01:00');
    assert.equal(paris('2026-11-27T12:00:00,123'), '2026-11-27T12:00:00.123+01:00');
    assert.equal(paris('2026-07-01 08:30:15,007'), '2026-07-01T08:30:15.007+02:00');
  });

  it('truncates or pads the fraction to milliseconds', () => {
    assert.equal(paris('2026-11-27 12:00:00.5'), '2026-11-27T12:00:00.500+01:00');
    assert.equal(paris('2026-11-27 12:00:00.12'), '2026-11-27T12:00:00.120+01:00');
    assert.equal(paris('2026-11-27 12:00:00.123999'), '2026-11-27T12:00:00.123+01:00');
  });

  it('writes Z for offset 0 and handles negative and half-hour zones', () => {
    assert.equal(createTimestampReader('UTC')('2026-11-27 12:00:00,123'), '2026-11-27T12:00:00.123Z');
    assert.equal(createTimestampReader('Europe/London')('2026-01-10 09:00:00'), '2026-01-10T09:00:00.000Z');
    assert.equal(createTimestampReader('America/New_York')('2026-11-27 12:00:00'), '2026-11-27T12:00:00.000-05:00');
    assert.equal(createTimestampReader('Asia/Kolkata')('2026-11-27 12:00:00'), '2026-11-27T12:00:00.000+05:30');
    assert.equal(createTimestampReader('America/St_Johns')('2026-11-27 12:00:00'), '2026-11-27T12:00:00.000-03:30');
  });

  it('is right on the spring-forward day (Europe/Paris, 2026-03-29 02:00 → 03:00)', () => {
    assert.equal(paris('2026-03-29 00:59:59,000'), '2026-03-29T00:59:59.000+01:00');
    assert.equal(paris('2026-03-29 01:59:59,999'), '2026-03-29T01:59:59.999+01:00');
    // 02:xx does not exist; like Python's fold=0, the offset before the transition.
    assert.equal(paris('2026-03-29 02:30:00,000'), '2026-03-29T02:30:00.000+01:00');
    assert.equal(paris('2026-03-29 03:00:00,000'), '2026-03-29T03:00:00.000+02:00');
    assert.equal(paris('2026-03-29 23:59:59,000'), '2026-03-29T23:59:59.000+02:00');
  });

  it('is right on the fall-back day (Europe/Paris, 2026-10-25 03:00 → 02:00)', () => {
    assert.equal(paris('2026-10-25 01:59:59,999'), '2026-10-25T01:59:59.999+02:00');
    // 02:xx happens twice; the first occurrence, like Python's fold=0.
    assert.equal(paris('2026-10-25 02:00:00,000'), '2026-10-25T02:00:00.000+02:00');
    assert.equal(paris('2026-10-25 02:59:59,999'), '2026-10-25T02:59:59.999+02:00');
    assert.equal(paris('2026-10-25 03:00:00,000'), '2026-10-25T03:00:00.000+01:00');
  });

  it('stays right when hours are read out of order (cache per hour)', () => {
    const r = createTimestampReader('Europe/Paris');
    const seq = ['2026-10-25 03:00:00', '2026-10-25 02:10:00', '2026-03-29 03:10:00', '2026-03-29 01:10:00', '2026-10-25 03:59:00'];
    const once = seq.map((s) => r(s));
    assert.deepEqual(once, [
      '2026-10-25T03:00:00.000+01:00',
      '2026-10-25T02:10:00.000+02:00',
      '2026-03-29T03:10:00.000+02:00',
      '2026-03-29T01:10:00.000+01:00',
      '2026-10-25T03:59:00.000+01:00',
    ]);
    assert.deepEqual(seq.map((s) => r(s)), once);
  });

  it('handles a transition inside an hour (Lord Howe shifts by 30 minutes at 02:00)', () => {
    const r = createTimestampReader('Australia/Lord_Howe');
    assert.equal(r('2026-10-04 01:59:00'), '2026-10-04T01:59:00.000+10:30');
    assert.equal(r('2026-10-04 02:15:00'), '2026-10-04T02:15:00.000+10:30'); // in the gap
    assert.equal(r('2026-10-04 02:45:00'), '2026-10-04T02:45:00.000+11:00');
  });

  it('honours a zone written in the timestamp', () => {
    assert.equal(paris('2026-11-27T12:00:00.123Z'), '2026-11-27T12:00:00.123Z');
    assert.equal(paris('2026-11-27T12:00:00.123456+00:00'), '2026-11-27T12:00:00.123Z');
    assert.equal(paris('2026-11-27T12:00:00+02:00'), '2026-11-27T12:00:00.000+02:00');
    assert.equal(paris('2026-11-27 12:00:00,5-0530'), '2026-11-27T12:00:00.500-05:30');
    assert.equal(paris('2026-11-27T12:00:00+09'), '2026-11-27T12:00:00.000+09:00');
  });

  it('returns null for what is not a timestamp, never throws', () => {
    for (const bad of [
      '',
      'hello',
      '2026-11-27',
      '2026-13-01 00:00:00',
      '2026-02-29 00:00:00',
      '2026-04-31 00:00:00',
      '2026-11-27 24:00:00',
      '2026-11-27 12:60:00',
      '2026-11-27 12:00:00,',
      '2026-11-27 12:00:00 extra',
      '2026-11-27 12:00:00+25:00',
      '2026-11-27/12:00:00',
      '27/Nov/2026 12:00:00',
    ]) {
      assert.equal(paris(bad), null, bad);
    }
    assert.equal(paris(42 as unknown as string), null);
    assert.equal(paris('2024-02-29 00:00:00'), '2024-02-29T00:00:00.000+01:00');
  });

  it('refuses an unknown zone at creation', () => {
    assert.throws(() => createTimestampReader('Mars/Olympus_Mons'), RangeError);
  });
});

describe('DST agreement with Python zoneinfo', () => {
  // Every 10 minutes of the transition days, in zones north and south of the equator; Python reads them with
  // fold=0, as a Django app formatting its own local time means them.
  const zones = ['Europe/Paris', 'America/New_York', 'Australia/Sydney'];
  const days = ['2026-03-08', '2026-03-29', '2026-04-05', '2026-10-04', '2026-10-25', '2026-11-01'];
  const stamps: string[] = [];
  for (const day of days) {
    for (let m = 0; m < 24 * 60; m += 10) {
      stamps.push(`${day} ${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}:00,250`);
    }
  }
  const script = `
import json, sys
from datetime import datetime
from zoneinfo import ZoneInfo
stamps, zones = json.load(sys.stdin)
out = {}
for z in zones:
    tz = ZoneInfo(z)
    out[z] = [datetime.fromisoformat(s.replace(",", ".")).replace(tzinfo=tz).isoformat(timespec="milliseconds").replace("+00:00", "Z") for s in stamps]
print(json.dumps(out))
`;
  let expected: Record<string, string[]> | null = null;
  try {
    expected = JSON.parse(execFileSync('python3', ['-c', script], { input: JSON.stringify([stamps, zones]), encoding: 'utf8' })) as Record<
      string,
      string[]
    >;
  } catch {
    expected = null;
  }

  it('gives the same offsets as Python for every 10 minutes of the DST days', { skip: expected === null ? 'python3 with zoneinfo not available' : false }, () => {
    for (const z of zones) {
      const r = createTimestampReader(z);
      assert.deepEqual(
        stamps.map((s) => r(s)),
        expected![z],
        z,
      );
    }
  });
});

describe('isoFromDocker', () => {
  it('cuts RFC3339Nano to milliseconds without Date', () => {
    assert.equal(isoFromDocker('2026-11-27T12:00:00.123456789Z'), '2026-11-27T12:00:00.123Z');
    assert.equal(isoFromDocker('2026-11-27T12:00:00.1Z'), '2026-11-27T12:00:00.100Z'); // Go trims trailing zeros
    assert.equal(isoFromDocker('2026-11-27T12:00:00Z'), '2026-11-27T12:00:00.000Z');
    assert.equal(isoFromDocker('2026-11-27T12:00:00.123+01:00'), '2026-11-27T12:00:00.123+01:00');
  });

  it('reads entries of the second it read last by their fraction only, with the same answers as in full', () => {
    const times = [
      '2026-11-27T12:00:00.5Z', // read in full: the second is remembered
      '2026-11-27T12:00:00.123456789Z',
      '2026-11-27T12:00:00.12Z',
      '2026-11-27T12:00:00Z',
      '2026-11-27T12:00:00.Z', // no fraction digits: not a time
      '2026-11-27T12:00:00.12xZ',
      '2026-11-27T12:00:00.123ZZ',
      '2026-11-27T12:00:00.123+01:00', // another zone: the full path
      '2026-11-27T12:00:00,5Z',
      '2026-11-27T12:00:01.999Z', // the next second: read in full, then remembered
      '2026-11-27T12:00:01.001Z',
    ];
    assert.deepEqual(times.map(isoFromDocker), [
      '2026-11-27T12:00:00.500Z',
      '2026-11-27T12:00:00.123Z',
      '2026-11-27T12:00:00.120Z',
      '2026-11-27T12:00:00.000Z',
      null,
      null,
      null,
      '2026-11-27T12:00:00.123+01:00',
      '2026-11-27T12:00:00.500Z',
      '2026-11-27T12:00:01.999Z',
      '2026-11-27T12:00:01.001Z',
    ]);
    // A line whose date is invalid is never taken for the last second's.
    assert.equal(isoFromDocker('2026-02-30T12:00:00.1Z'), null);
    assert.equal(isoFromDocker('2026-11-27T12:00:01.1Z'), '2026-11-27T12:00:01.100Z');
  });

  it('returns null for anything else', () => {
    assert.equal(isoFromDocker(''), null);
    assert.equal(isoFromDocker('2026-11-27T12:00:00.123'), null); // no zone: not Docker's
    assert.equal(isoFromDocker('2026-11-27 12:00:00.123Z'), null);
    assert.equal(isoFromDocker('2026-11-27T12:00:00.123ZZ'), null);
    assert.equal(isoFromDocker('yesterday'), null);
    assert.equal(isoFromDocker(undefined as unknown as string), null);
  });
});

describe('isoFromEpochSeconds', () => {
  it('turns Python created into ISO UTC with milliseconds, truncating', () => {
    assert.equal(isoFromEpochSeconds(1795780800.123), '2026-11-27T12:00:00.123Z');
    assert.equal(isoFromEpochSeconds(1795780800.9999), '2026-11-27T12:00:00.999Z');
    assert.equal(isoFromEpochSeconds(0), '1970-01-01T00:00:00.000Z');
  });

  it('returns null for non-finite or out-of-range input', () => {
    assert.equal(isoFromEpochSeconds(Number.NaN), null);
    assert.equal(isoFromEpochSeconds(Number.POSITIVE_INFINITY), null);
    assert.equal(isoFromEpochSeconds(1e20), null);
    assert.equal(isoFromEpochSeconds('1' as unknown as number), null);
  });
});

describe('isValidTimezone', () => {
  it('accepts IANA names and UTC, refuses the rest', () => {
    assert.equal(isValidTimezone('Europe/Paris'), true);
    assert.equal(isValidTimezone('UTC'), true);
    assert.equal(isValidTimezone('Mars/Olympus_Mons'), false);
    assert.equal(isValidTimezone(''), false);
  });
});
