/** checkSender on its own: the `ath` it expects follows the token presented, whatever the token cache shares. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { checkSender } from '../../src/pipeline/check-sender.js';
import { DEFAULT_SENDER_CONSTRAINT } from '../../src/compile/sender-constraint.js';
import { DpopNonces } from '../../src/authn/dpop-nonce.js';
import { MemoryReplayStore } from '../../src/authn/replay-store.js';
import { jwkThumbprint } from '../../src/authn/jwk-thumbprint.js';
import { publicJwk } from '../helpers/dpop-proofs.js';
import type { Verified } from '../../src/decision.js';
import type { AuthRequest } from '../../src/request.js';

const HOST = 'api.example.com';
const NOW = Math.floor(Date.now() / 1000);
const client = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const JKT = jwkThumbprint(publicJwk(client.publicKey) as Record<string, unknown>)!;
const ath = (t: string) => createHash('sha256').update(t).digest('base64url');

const proof = (forToken: string) =>
  new SignJWT({ jti: randomBytes(9).toString('base64url'), htm: 'GET', htu: `https://${HOST}/v1`, iat: NOW, ath: ath(forToken) })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: publicJwk(client.publicKey) })
    .sign(client.privateKey);
const request = (p: string): AuthRequest => ({
  method: 'GET', host: HOST, path: '/v1', headers: new Map([['dpop', [p]]]), contextExtensions: {}, requestId: 'r', scheme: 'https',
  source: { principal: '', address: '' }, destination: { principal: '', address: '' },
});

describe('checkSender', () => {
  test('two tokens sharing one claims object: each needs a proof naming itself', async () => {
    const claims = { sub: 'u', cnf: { jkt: JKT } };
    const sender = { nonces: new DpopNonces(undefined), replay: new MemoryReplayStore() };
    const run = async (token: string, proofFor: string) => {
      const verified = { claims, token, alg: 'ES256' } as unknown as Verified;
      return checkSender(request(await proof(proofFor)), { token, dpop: true }, verified, DEFAULT_SENDER_CONSTRAINT, '/v1', NOW, sender);
    };
    assert.deepEqual(await run('token-one', 'token-one'), { ok: true });
    assert.deepEqual(await run('token-one', 'token-one'), { ok: true }, 'the kept ath, again');
    assert.equal((await run('token-two', 'token-one')).ok, false, 'a proof for the first token does not pass with the second');
    assert.deepEqual(await run('token-two', 'token-two'), { ok: true });
    const back = await run('token-one', 'token-two');
    assert.equal(back.ok, false);
    assert.equal((back as { reason: string }).reason, 'dpop_proof_ath');
  });
});
