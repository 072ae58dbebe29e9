import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { createDecisionLog, DEFAULT_DECISION_LOG, type DecisionLogOptions } from '../../src/telemetry/decision-log.js';
import { parseServe } from '../../src/cli.js';
import { ClaimcheckError } from '../../src/errors.js';
import type { Decision, Deny } from '../../src/decision.js';
import type { AuthRequest } from '../../src/request.js';
import { makeIssuer } from '../helpers/tokens.js';

const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl';

function capture(opts: Partial<DecisionLogOptions> = {}, random = () => 0.5) {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      cb();
    },
  });
  const logger = pino({ level: 'info', base: { service: 'claimcheck' } }, stream);
  const log = createDecisionLog(logger, { ...DEFAULT_DECISION_LOG, ...opts }, random);
  return { log, lines, parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const req: AuthRequest = {
  method: 'POST',
  host: 'Payments.Example.com:443',
  path: `/v1/payments/7?access_token=${TOKEN}`,
  headers: new Map([['authorization', [`Bearer ${TOKEN}`]]]),
  contextExtensions: {},
  requestId: 'req-1',
  scheme: 'https',
  source: { principal: '', address: '' },
  destination: { principal: '', address: '' },
};

const issuer = makeIssuer({ name: 'corp-idp', namespace: 'payments' });
const verified = { claims: { sub: 'alice', jti: 'jti-1', tenant: 'acme-secret-tenant', scope: 'a b' }, issuer, token: TOKEN, alg: 'ES256' };
const policy = { key: 'payments/payments' } as never;
const rule = { name: 'write' } as never;
const denied: Deny = { allow: false, kind: 'access_denied', reason: 'condition_false', description: 'access denied', steps: [], policy, rule, verified };

describe('decision log', () => {
  test('writes one JSON line per denial with request id, policy, rule, issuer, reason, sub and jti, and never the token', () => {
    const { log, lines, parsed } = capture();
    log.record(req, { label: 'deny', reason: 'condition_false', status: 403, decision: denied });
    assert.equal(lines.length, 1);
    const line = parsed()[0]!;
    assert.equal(line.log, 'decision');
    assert.equal(line.level, 30);
    assert.deepEqual(
      { requestId: line.requestId, decision: line.decision, reason: line.reason, error: line.error, status: line.status, policy: line.policy, rule: line.rule, issuer: line.issuer, sub: line.sub, jti: line.jti, method: line.method, host: line.host, path: line.path },
      { requestId: 'req-1', decision: 'deny', reason: 'condition_false', error: 'access_denied', status: 403, policy: 'payments/payments', rule: 'write', issuer: 'payments/corp-idp', sub: 'alice', jti: 'jti-1', method: 'POST', host: 'payments.example.com', path: '/v1/payments/7' },
    );
    assert.ok(!lines[0]!.includes(TOKEN), 'the token (also in the query string) is never logged');
    assert.ok(!lines[0]!.includes('acme-secret-tenant'), 'claim values other than sub and jti are never logged');
  });

  test('logs an audit-mode would-deny with the reason enforce mode would have used', () => {
    const { log, parsed } = capture();
    const allow: Decision = { allow: true, reason: 'audit_deny', policy, rule, verified, steps: [], auditedDeny: denied };
    log.record(req, { label: 'audit_deny', reason: 'condition_false', decision: allow });
    const line = parsed()[0]!;
    assert.equal(line.decision, 'audit_deny');
    assert.equal(line.reason, 'condition_false');
    assert.equal(line.error, 'access_denied');
    assert.equal(line.status, undefined);
  });

  test('logs no allows by default, every allow at sample 1, and a sample in between', () => {
    const allow: Decision = { allow: true, reason: 'allowed', policy, rule, verified, steps: [] };
    const none = capture();
    none.log.record(req, { label: 'allow', reason: 'allowed', decision: allow });
    assert.equal(none.lines.length, 0);
    const all = capture({ allowSample: 1 }, () => 0.999999);
    all.log.record(req, { label: 'allow', reason: 'allowed', decision: allow });
    assert.equal(all.parsed()[0]!.decision, 'allow');
    const draws = [0.1, 0.3, 0.5, 0.7, 0.9];
    const some = capture({ allowSample: 0.5 }, () => draws.shift()!);
    for (let i = 0; i < 5; i++) some.log.record(req, { label: 'allow', reason: 'allowed', decision: allow });
    assert.equal(some.lines.length, 2);
  });

  test('sub and jti can each be turned off, and the whole log too', () => {
    const noSub = capture({ subject: false });
    noSub.log.record(req, { label: 'deny', reason: 'condition_false', decision: denied });
    assert.equal(noSub.parsed()[0]!.sub, undefined);
    assert.equal(noSub.parsed()[0]!.jti, 'jti-1');
    const noJti = capture({ tokenId: false });
    noJti.log.record(req, { label: 'deny', reason: 'condition_false', decision: denied });
    assert.equal(noJti.parsed()[0]!.jti, undefined);
    assert.equal(noJti.parsed()[0]!.sub, 'alice');
    const off = capture({ enabled: false, allowSample: 1 });
    off.log.record(req, { label: 'deny', reason: 'condition_false', decision: denied });
    assert.equal(off.lines.length, 0);
  });

  test('a denial without a decision (not ready) is still one line', () => {
    const { log, parsed } = capture();
    log.record(req, { label: 'deny', reason: 'not_ready', status: 503 });
    assert.deepEqual([parsed()[0]!.reason, parsed()[0]!.status, parsed()[0]!.policy], ['not_ready', 503, undefined]);
  });
});

describe('decision log flags', () => {
  const env = ['CLAIMCHECK_DECISION_LOG', 'CLAIMCHECK_DECISION_LOG_ALLOW_SAMPLE', 'CLAIMCHECK_DECISION_LOG_SUBJECT', 'CLAIMCHECK_DECISION_LOG_JTI'];
  afterEach(() => {
    for (const k of env) delete process.env[k];
  });

  test('default to denials only, with sub and jti', () => {
    assert.deepEqual(parseServe([]).decisionLog, { enabled: true, allowSample: 0, subject: true, tokenId: true });
  });

  test('read flags and CLAIMCHECK_ variables, flags winning', () => {
    process.env.CLAIMCHECK_DECISION_LOG_ALLOW_SAMPLE = '0.25';
    process.env.CLAIMCHECK_DECISION_LOG_JTI = 'false';
    assert.deepEqual(parseServe(['--decision-log-subject=false']).decisionLog, { enabled: true, allowSample: 0.25, subject: false, tokenId: false });
    assert.equal(parseServe(['--decision-log-allow-sample', '1']).decisionLog.allowSample, 1);
    assert.equal(parseServe(['--decision-log=false']).decisionLog.enabled, false);
  });

  test('reject values that are not a fraction or a boolean', () => {
    for (const argv of [['--decision-log-allow-sample', '1.5'], ['--decision-log-allow-sample=-0.1'], ['--decision-log-allow-sample', 'half'], ['--decision-log-subject', 'no'], ['--decision-log', 'yes']]) {
      assert.throws(() => parseServe(argv), (e: unknown) => e instanceof ClaimcheckError && e.code === 'bad_flag' && e.message.startsWith(`--${argv[0]!.slice(2).split('=')[0]}`), argv.join(' '));
    }
  });
});
