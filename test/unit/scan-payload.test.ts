import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { containsCardNumber, decodedBytes, luhnValid, scanPayload } from '../../src/authn/scan-payload.js';
import { compilePayloadRules } from '../../src/compile/payload-rules.js';

// test card numbers the card schemes publish: Visa, Mastercard, Amex (15 digits), Discover
const VISA = '4111111111111111';
const CARDS = [VISA, '5555555555554444', '378282246310005', '6011111111111117'];

const rules = (spec: Parameters<typeof compilePayloadRules>[0]) => compilePayloadRules(spec)!;

describe('card number detection', () => {
  test('published test numbers pass the Luhn check; one changed digit does not', () => {
    for (const n of CARDS) assert.ok(luhnValid(n), n);
    assert.equal(luhnValid('4111111111111112'), false);
  });

  test('a card number alone, with spaces or dashes, and inside a longer string', () => {
    for (const s of [VISA, '4111 1111 1111 1111', '4111-1111-1111-1111', `paid with ${VISA} yesterday`, `card:${CARDS[2]}.`]) {
      assert.ok(containsCardNumber(s), s);
    }
  });

  test('no detection: a Luhn-invalid number, a timestamp, a longer run of digits, too few digits, double separators', () => {
    for (const s of ['4111111111111112', 'order 4111111111111112 shipped', '1733600000000', '1733600000005', `9${VISA}12345`, '41111111111', '4111  1111  1111  1111', 'a1b2c3']) {
      assert.equal(containsCardNumber(s), false, s);
    }
  });

  test('a millisecond timestamp that passes Luhn is not a card: it starts with 1', () => {
    const ts = Array.from({ length: 10 }, (_, i) => `173360000000${i}`).find(luhnValid)!;
    assert.ok(ts, 'one of ten consecutive numbers passes Luhn');
    assert.equal(containsCardNumber(ts), false);
  });
});

describe('scanPayload', () => {
  test('a forbidden claim at the top, nested under an object, and inside an array of objects', () => {
    const r = rules({ forbiddenClaims: ['ssn', 'password'] });
    for (const [claims, path] of [
      [{ ssn: 'x' }, '/ssn'],
      [{ profile: { ssn: null } }, '/profile/ssn'],
      [{ accounts: [{ id: 1 }, { password: 'p' }] }, '/accounts/1/password'],
    ] as const) {
      const v = scanPayload(claims as Record<string, unknown>, r);
      assert.deepEqual(v, { ok: false, reason: 'forbidden_claim', findings: [{ kind: 'forbidden', path }] });
    }
    assert.deepEqual(scanPayload({ sub: 'ssn', SSN: 1, note: 'password' }, r), { ok: true });
  });

  test('a card number is audited by default and denied with detectAction: deny; the finding names the path, not the value', () => {
    const claims = { sub: 'u1', billing: { note: `card ${VISA}` } };
    const audited = scanPayload(claims, rules({ detect: ['pan'] }));
    assert.deepEqual(audited, { ok: true, findings: [{ kind: 'pan', path: '/billing/note' }] });
    assert.ok(!JSON.stringify(audited).includes(VISA));
    assert.deepEqual(scanPayload(claims, rules({ detect: ['pan'], detectAction: 'deny' })), { ok: false, reason: 'sensitive_claim', findings: [{ kind: 'pan', path: '/billing/note' }] });
    assert.deepEqual(scanPayload(claims, rules({ forbiddenClaims: ['x'] })), { ok: true }, 'no detect: strings are not scanned');
  });

  test('JSON pointer escaping of claim names with / and ~', () => {
    const v = scanPayload({ 'a/b': { 'c~d': VISA } }, rules({ detect: ['pan'] }));
    assert.deepEqual(v, { ok: true, findings: [{ kind: 'pan', path: '/a~1b/c~0d' }] });
  });

  test('a payload nested 100,000 levels deep is scanned without a stack overflow', () => {
    let deep: unknown = { ssn: 1 };
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const v = scanPayload({ deep }, rules({ forbiddenClaims: ['ssn'] }));
    assert.equal(v.ok, false);
  });

  test('findings are capped per token', () => {
    const claims = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`c${i}`, VISA]));
    const v = scanPayload(claims, rules({ detect: ['pan'] }));
    assert.equal(v.ok && v.findings?.length, 8);
  });

  test('rules that ask for nothing compile to nothing; the decoded size of base64url', () => {
    assert.equal(compilePayloadRules({}), undefined);
    assert.equal(compilePayloadRules({ detect: [], forbiddenClaims: [] }), undefined);
    assert.equal(compilePayloadRules(undefined), undefined);
    for (const n of [0, 1, 2, 3, 100, 8191]) assert.equal(decodedBytes(Buffer.alloc(n).toString('base64url').length), n);
  });
});
