import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { LogLimiter } from '../../src/telemetry/log-limiter.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({ write(chunk, _e, cb) { lines.push(JSON.parse(String(chunk))); cb(); } });
  return { logger: pino({ level: 'info' }, stream), lines };
}

test('at most 10 lines per kind and second, then one summary with the count left out; every event is counted', async () => {
  const { logger, lines } = capture();
  let now = 1_000_000;
  const timers: { fn: () => void; at: number }[] = [];
  const counted: string[] = [];
  const limiter = new LogLimiter(logger, { now: () => now, setTimer: (fn, ms) => timers.push({ fn, at: now + ms }), count: (k) => counted.push(k) });
  for (let i = 0; i < 4240; i++) limiter.error('malformed_request', { i }, 'malformed CheckRequest');
  for (let i = 0; i < 3; i++) limiter.error('internal_error', {}, 'internal error');
  await new Promise((r) => setImmediate(r));
  assert.equal(lines.filter((l) => l.kind === 'malformed_request').length, 10);
  assert.equal(lines.filter((l) => l.kind === 'internal_error').length, 3, 'kinds have their own budget');
  assert.equal(counted.length, 4243);
  assert.equal(timers.length, 1);
  now = timers[0]!.at;
  timers[0]!.fn();
  await new Promise((r) => setImmediate(r));
  const summary = lines.at(-1)!;
  assert.equal(summary.suppressed, 4230);
  assert.match(String(summary.msg), /4230 more malformed_request line\(s\)/);
  limiter.error('malformed_request', {}, 'malformed CheckRequest');
  await new Promise((r) => setImmediate(r));
  assert.equal(lines.at(-1)!.msg, 'malformed CheckRequest', 'a new window logs again');
});
