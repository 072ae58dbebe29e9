/**
 * The DPoP row's requests: one RS256 access token bound to a client's ES256 key
 * (`cnf.jkt`), and a new proof for every request (RFC 9449 §4.2), signed right before the
 * row in worker threads, so every `iat` is inside the default 60 s `proofMaxAge` while the
 * row runs and every `jti` is new to the replay store.
 */
import { createHash, createPrivateKey, createSign, generateKeyPairSync } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { AUDIENCE, benchKeys, HOST, ISSUER } from './fixtures.js';

export interface DpopSet {
  /** the bound access token, sent as `Authorization: DPoP <token>` */
  token: string;
  /** one proof per request, each used once */
  proofs: string[];
}

const PROOF_SIGNER = `
const { parentPort, workerData } = require('node:worker_threads');
const crypto = require('node:crypto');
const { pem, jwk, htu, ath, from, to, iat, tag } = workerData;
const key = crypto.createPrivateKey(pem);
const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
const header = b64({ alg: 'ES256', typ: 'dpop+jwt', jwk });
const out = [];
for (let i = from; i < to; i++) {
  const input = header + '.' + b64({ jti: tag + '-' + i, htm: 'GET', htu, iat, ath });
  out.push(input + '.' + crypto.sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url'));
}
parentPort.postMessage(out);
`;

/** RFC 7638 thumbprint of an EC public JWK */
function thumbprint(jwk: { crv: string; x: string; y: string }): string {
  return createHash('sha256').update(`{"crv":"${jwk.crv}","kty":"EC","x":"${jwk.x}","y":"${jwk.y}"}`).digest('base64url');
}

export async function dpopSet(count: number, path: string): Promise<DpopSet> {
  const client = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = client.publicKey.export({ format: 'jwk' }) as { kty: string; crv: string; x: string; y: string };
  const now = Math.floor(Date.now() / 1000);
  const payload = { iss: ISSUER, aud: AUDIENCE, sub: 'user-dpop', scope: 'orders:read profile', tenant: 'acme', groups: ['staff', 'admins'], iat: now, exp: now + 3600, jti: `dpop-${now}`, cnf: { jkt: thumbprint(jwk) } };
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${b64({ alg: 'RS256', kid: 'bench-rs256', typ: 'JWT' })}.${b64(payload)}`;
  const token = `${input}.${createSign('sha256').update(input).sign(createPrivateKey(benchKeys().private.RS256)).toString('base64url')}`;
  const ath = createHash('sha256').update(token).digest('base64url');
  const pem = client.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const threads = 2;
  const per = Math.ceil(count / threads);
  const parts = await Promise.all(
    Array.from({ length: threads }, (_, t) =>
      new Promise<string[]>((resolve, reject) => {
        const from = t * per;
        const w = new Worker(PROOF_SIGNER, { eval: true, workerData: { pem, jwk, htu: `https://${HOST}${path}`, ath, from, to: Math.min(count, from + per), iat: now, tag: `${now}-${t}` } });
        w.once('message', resolve);
        w.once('error', reject);
      }),
    ),
  );
  return { token, proofs: parts.flat() };
}
