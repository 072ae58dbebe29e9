/**
 * 10,000 mutated DPoP proofs and bound tokens through the decision (decideRequest with a
 * real snapshot, real keys and signatures): not one may be allowed. Each case starts from
 * a request that is allowed and breaks one thing, so a mutation that is harmless by
 * accident (a changed jti) is told apart from one the checks must catch.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { compileSnapshot } from '../../src/compile/compile-snapshot.js';
import { decideRequest, type DecideContext } from '../../src/pipeline/decide-request.js';
import { TokenCache } from '../../src/authn/token-cache.js';
import { KeyRegistry } from '../../src/keys/key-registry.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { DpopNonces } from '../../src/authn/dpop-nonce.js';
import { MemoryReplayStore } from '../../src/authn/replay-store.js';
import { jwkThumbprint } from '../../src/authn/jwk-thumbprint.js';
import type { AnyResource } from '../../src/model/types.js';
import type { AuthRequest } from '../../src/request.js';
import { rng } from '../helpers/wire-build.js';

const HOST = 'api.example.com';
const NOW = Math.floor(Date.now() / 1000);
const client = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const jwkOf = (k: KeyObject) => k.export({ format: 'jwk' }) as JWK;
const JKT = jwkThumbprint(jwkOf(client.publicKey) as Record<string, unknown>)!;
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const ath = (t: string) => createHash('sha256').update(t).digest('base64url');

async function setup() {
  const idp = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(idp.publicKey)), kid: 'k1', alg: 'ES256' };
  const resources: AnyResource[] = [
    { apiVersion: 'claimcheck.io/v1alpha1', kind: 'TrustedIssuer', metadata: { name: 'idp' }, spec: { issuer: 'https://idp.example.com', jwks: { inline: { keys: [jwk] } }, audiences: ['api'] } },
    { apiVersion: 'claimcheck.io/v1alpha1', kind: 'AuthPolicy', metadata: { name: 'api' }, spec: { hosts: [HOST], issuers: ['idp'], rules: [{ name: 'all', match: { paths: ['/**'] } }] } },
  ];
  const { snapshot } = compileSnapshot(resources, { namespace: 'claimcheck', generation: 1 });
  const keys = new KeyRegistry({ logger: silentLogger() });
  keys.sync([...snapshot!.issuers.values()]);
  await keys.waitReady(5000);
  const token = (claims: Record<string, unknown>) => new SignJWT({ iss: 'https://idp.example.com', aud: 'api', sub: 'u', iat: NOW, exp: NOW + 600, ...claims }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).sign(idp.privateKey);
  const ctx = (): DecideContext => ({
    snapshot: snapshot!, keys, tokenCache: new TokenCache({ size: 100 }), nowSec: NOW,
    options: { unmatchedHost: 'deny', maxTokenBytes: 16384 }, sender: { nonces: new DpopNonces(undefined), replay: new MemoryReplayStore() },
  });
  return { keys, token, ctx };
}

const request = (headers: [string, string][], path = '/v1/accounts', method = 'GET'): AuthRequest => {
  const map = new Map<string, string[]>();
  for (const [n, v] of headers) map.set(n, [...(map.get(n) ?? []), v]);
  return { method, host: HOST, path, headers: map, contextExtensions: {}, requestId: 'r', scheme: 'https', source: { principal: '', address: '' }, destination: { principal: '', address: '' } };
};

async function signProof(claims: Record<string, unknown>, header: Record<string, unknown> = {}, key = client): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: jwkOf(key.publicKey), ...header }).sign(key.privateKey);
}

describe('DPoP under mutation', () => {
  test('10,000 mutated proofs and bound tokens: zero allows, and the unmutated request allowed', { timeout: 120_000 }, async () => {
    const { keys, token, ctx } = await setup();
    try {
      const bound = await token({ cnf: { jkt: JKT } });
      const base = () => ({ jti: randomBytes(9).toString('base64url'), htm: 'GET', htu: `https://${HOST}/v1/accounts`, iat: NOW, ath: ath(bound) });
      const good = await decideRequest(request([['authorization', `DPoP ${bound}`], ['dpop', await signProof(base())]]), ctx());
      assert.ok(good.allow, JSON.stringify(good));

      const g = rng(0xd90);
      const signedProof = await signProof(base());
      const [h, p, s] = signedProof.split('.') as [string, string, string];
      const mutations: (() => Promise<AuthRequest>)[] = [
        async () => request([['authorization', `Bearer ${bound}`], ['dpop', await signProof(base())]]),
        async () => request([['authorization', `DPoP ${bound}`]]),
        async () => request([['authorization', `DPoP ${bound}`], ['dpop', await signProof({ ...base(), htm: g.pick(['POST', 'get', 'PUT', '']) })]]),
        async () => request([['authorization', `DPoP ${bound}`], ['dpop', await signProof({ ...base(), htu: g.pick([`https://${HOST}/v1/other`, `http://${HOST}/v1/accounts`, `https://evil.example/v1/accounts`, `https://${HOST}:8443/v1/accounts`, '/v1/accounts']) })]]),
        async () => request([['authorization', `DPoP ${bound}`], ['dpop', await signProof({ ...base(), iat: NOW + 6 + g.int(1000) })]]),
        async () => request([['authorization', `DPoP ${bound}`], ['dpop', await signProof({ ...base(), iat: NOW - 61 - g.int(1000) })]]),
        async () => request([['authorization', `DPoP ${bound}`], ['dpop', await signProof({ ...base(), ath: ath(`${bound}${g.int(9)}`) })]]),
        async () => request([['authorization', `DPoP ${bound}`], ['dpop', await signProof(base(), {}, other)]]),
        async () => request([['authorization', `DPoP ${bound}`], ['dpop', await signProof(base(), { typ: g.pick(['JWT', 'at+jwt', 'dpop', '']) })]]),
        async () => request([['authorization', `DPoP ${bound}`], ['dpop', await signProof(base(), { jwk: { ...jwkOf(client.publicKey), d: 'AAAA' } })]]),
        async () => request([['authorization', `DPoP ${bound}`], ['dpop', await signProof({ ...base(), jti: 'j'.repeat(257 + g.int(800)) })]]),
        async () => request([['authorization', `DPoP ${bound}`], ['dpop', signedProof], ['dpop', signedProof]]),
        async () => request([['authorization', `DPoP ${bound}`], ['authorization', `Bearer ${bound}`], ['dpop', await signProof(base())]]),
        async () => request([['authorization', `DPoP ${await token({ cnf: { jkt: JKT.slice(0, -1) + (JKT.endsWith('A') ? 'B' : 'A') } })}`], ['dpop', await signProof(base())]]),
        // the proof's bytes: a changed character of the header, payload or signature, or alg none
        async () => {
          const parts = [h, p, s];
          const i = g.int(3);
          const at = g.int(parts[i]!.length);
          parts[i] = parts[i]!.slice(0, at) + g.pick(['A', 'B', '_', '-', '0']) + parts[i]!.slice(at + 1);
          return request([['authorization', `DPoP ${bound}`], ['dpop', parts.join('.')]]);
        },
        async () => request([['authorization', `DPoP ${bound}`], ['dpop', `${b64({ alg: 'none', typ: 'dpop+jwt', jwk: jwkOf(client.publicKey) })}.${b64(base())}.`]]),
        async () => request([['authorization', `DPoP ${bound}`], ['dpop', `${b64({ alg: 'HS256', typ: 'dpop+jwt', jwk: { kty: 'oct', k: 'AAAA' } })}.${b64(base())}.${randomBytes(32).toString('base64url')}`]]),
      ];
      // the same proof twice: the first may be allowed (it is valid), the second never
      const replayed = await signProof(base());
      const c = ctx();
      await decideRequest(request([['authorization', `DPoP ${bound}`], ['dpop', replayed]]), c);
      let allows = 0;
      const context = ctx();
      for (let i = 0; i < 10_000; i++) {
        const req = i % 500 === 0 ? request([['authorization', `DPoP ${bound}`], ['dpop', replayed]]) : await g.pick(mutations)();
        const d = await decideRequest(req, i % 500 === 0 ? c : context);
        if (d.allow) {
          // a byte mutation that decodes to the same bytes (base64url's spare bits are refused, so this is only a same-character pick)
          const proofHeader = req.headers.get('dpop')?.[0];
          if (proofHeader === signedProof) continue;
          allows++;
        }
      }
      assert.equal(allows, 0);
    } finally {
      keys.close();
    }
  });
});
