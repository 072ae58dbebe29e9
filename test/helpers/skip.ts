/**
 * Skipping a suite whose tool is missing: one line that says why and which script
 * provides the tool. CI sets CLAIMCHECK_NO_SKIP=1 (.ci/run): there a missing tool is a
 * failing test instead, so a CI run can never pass by skipping.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';

/** `false` when `reason` is undefined; else the skip reason for node:test's `skip` option. */
export function skipFor(what: string, reason: string | undefined | false): string | false {
  if (!reason) return false;
  if (process.env.CLAIMCHECK_NO_SKIP === '1') {
    test(`${what}: the tool it needs is available (CI never skips)`, () => assert.fail(reason));
  } else {
    console.log(`# SKIP ${what}: ${reason}`);
  }
  return `SKIP ${what}: ${reason}`;
}
