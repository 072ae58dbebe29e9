/**
 * Per-run signing keys for the issuers a test names, and the issuer view that trusts them:
 * tests need no private key of a real IdP and no network.
 */
import { createHmac, generateKeyPairSync, randomBytes, randomUUID, sign, constants, type KeyObject } from 'node:crypto';
import type { CompiledIssuer, CompiledJwks } from '../compile/snapshot.js';
import type { Jwk } from '../model/types.js';

/** Cheap to generate and the most common; among them, the issuer's own order decides. */
const PREFERRED = new Set(['ES256', 'EdDSA', 'Ed25519', 'RS256']);

const HASH: Record<string, string> = { '256': 'sha256', '384': 'sha384', '512': 'sha512' };
const CURVE: Record<string, string> = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' };

export interface ThrowawayKey {
  alg: string;
  kid: string;
  /** JWS signature of the signing input (`header.payload`) */
  sign(input: string): Buffer;
  /** what the issuer's key set becomes: an inline public JWKS, or an HMAC secret as a JWKS document */
  jwks: { keys: Jwk[] };
  symmetric: boolean;
}

/** The algorithm a test token of this issuer is signed with. */
export function chooseAlgorithm(algorithms: readonly string[]): string {
  const alg = algorithms.find((a) => PREFERRED.has(a)) ?? algorithms[0];
  if (alg === undefined) throw new Error('issuer allows no algorithm');
  return alg;
}

export function generateThrowawayKey(algorithms: readonly string[]): ThrowawayKey {
  const alg = chooseAlgorithm(algorithms);
  const kid = `policy-test-${randomUUID().slice(0, 8)}`;
  const bits = alg.slice(2);
  if (alg.startsWith('HS')) {
    // RFC 7518 §3.2: at least the hash size; 64 bytes fits HS512 too.
    const secret = randomBytes(64);
    return {
      alg,
      kid,
      sign: (input) => createHmac(HASH[bits]!, secret).update(input).digest(),
      jwks: { keys: [{ kty: 'oct', k: secret.toString('base64url'), kid, alg }] },
      symmetric: true,
    };
  }
  const { privateKey, publicKey } = generatePair(alg);
  const jwk = { ...(publicKey.export({ format: 'jwk' }) as Jwk), kid, alg, use: 'sig' };
  return { alg, kid, sign: (input) => signAsymmetric(alg, privateKey, input), jwks: { keys: [jwk] }, symmetric: false };
}

function generatePair(alg: string): { privateKey: KeyObject; publicKey: KeyObject } {
  if (alg === 'EdDSA' || alg === 'Ed25519') return generateKeyPairSync('ed25519');
  if (alg.startsWith('ES')) return generateKeyPairSync('ec', { namedCurve: CURVE[alg]! });
  if (alg.startsWith('RS') || alg.startsWith('PS')) return generateKeyPairSync('rsa', { modulusLength: 2048 });
  throw new Error(`cannot make a test key for ${alg}`);
}

function signAsymmetric(alg: string, key: KeyObject, input: string): Buffer {
  const data = Buffer.from(input);
  if (alg === 'EdDSA' || alg === 'Ed25519') return sign(null, data, key);
  const hash = HASH[alg.slice(2)]!;
  // RFC 7518 §3.4: ECDSA signatures are R || S, not DER.
  if (alg.startsWith('ES')) return sign(hash, data, { key, dsaEncoding: 'ieee-p1363' });
  // RFC 7518 §3.5: PSS with MGF1 and a salt as long as the hash.
  if (alg.startsWith('PS')) return sign(hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST });
  return sign(hash, data, key);
}

/** A secretRef name no Secret has: the key set reads the throwaway secret through the registry's secret reader. */
export const THROWAWAY_SECRET_REF = { name: 'claimcheck-policy-test' };

/**
 * The issuer as the test run's key registry sees it. With a throwaway key: only that key. Without
 * one, local keys (inline, a key file) stay, and a remote key set becomes empty, so a test run
 * never fetches. The key fingerprint is kept: the snapshot's rules hold the original issuer object.
 */
export function testIssuerView(issuer: CompiledIssuer, key: ThrowawayKey | undefined): CompiledIssuer {
  const remote = issuer.jwks.uri !== undefined || issuer.jwks.discovery;
  if (!key && !remote) return issuer;
  const base: CompiledJwks = {
    discovery: false,
    allowInsecureHttp: false,
    refreshIntervalMs: issuer.jwks.refreshIntervalMs,
    minRefreshIntervalMs: issuer.jwks.minRefreshIntervalMs,
    maxStalenessMs: issuer.jwks.maxStalenessMs,
  };
  // HMAC keys are refused inline (a readable resource must never hold a secret), so they go through secretRef.
  const jwks: CompiledJwks = !key ? { ...base, inline: { keys: [] } } : key.symmetric ? { ...base, secretRef: THROWAWAY_SECRET_REF } : { ...base, inline: key.jwks };
  return Object.freeze({ ...issuer, jwks: Object.freeze(jwks) });
}
