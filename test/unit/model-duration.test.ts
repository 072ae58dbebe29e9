import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration, tryParseDuration } from '../../src/model/duration.js';
import { ClaimcheckError } from '../../src/errors.js';

describe('parseDuration', () => {
  const good: [string, number][] = [
    ['500ms', 500],
    ['30s', 30_000],
    ['10m', 600_000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['24h', 86_400_000],
    ['1.5s', 1500],
    ['0', 0],
    ['2m30s500ms', 150_500],
  ];
  for (const [text, ms] of good) {
    test(`reads ${text} as ${ms} ms`, () => {
      assert.equal(parseDuration(text), ms);
    });
  }

  for (const bad of ['', '30', 's', '1d', '5 min', '-1s', '1h 30m', 'abc', '1.2.3s', '10M']) {
    test(`rejects ${JSON.stringify(bad)} with invalid_duration`, () => {
      assert.equal(tryParseDuration(bad), undefined);
      assert.throws(() => parseDuration(bad), (e: unknown) => e instanceof ClaimcheckError && e.code === 'invalid_duration' && /e\.g\. "30s"/.test(e.message));
    });
  }
});
