/** Keys, issuers and tokens for authn/keys tests: real signatures, plus raw forging for malformed cases. */
import { createHmac, generateKeyPairSync, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { CompactSign } from 'jose';
import type { CompiledIssuer, CompiledJwks } from '../../src/compile/snapshot.js';
import type { Jwk } from '../../src/model/types.js';

export type TestAlg = 'RS256' | 'PS256' | 'ES256' | 'ES384' | 'ES512' | 'EdDSA';

/** A fresh P-256 private key as PKCS#8 PEM: what an identity key file holds. */
export function ecPrivateKeyPem(): string {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
}

export interface TestKey {
  alg: TestAlg;
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** public JWK with kid, alg and use: sig */
  jwk: Jwk;
}

/** A fresh key pair; `rsaBits` only for RSA algs (under 2048 is for filter tests). */
export function generateKey(alg: TestAlg, kid: string, opts: { rsaBits?: number } = {}): TestKey {
  let pair: { privateKey: KeyObject; publicKey: KeyObject };
  if (alg === 'RS256' || alg === 'PS256') pair = generateKeyPairSync('rsa', { modulusLength: opts.rsaBits ?? 2048 });
  else if (alg === 'EdDSA') pair = generateKeyPairSync('ed25519');
  else pair = generateKeyPairSync('ec', { namedCurve: { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' }[alg] });
  const jwk = { ...(pair.publicKey.export({ format: 'jwk' }) as Jwk), kid, alg, use: 'sig' };
  return { alg, kid, ...pair, jwk };
}

export function jwksOf(...keys: TestKey[]): { keys: Jwk[] } {
  return { keys: keys.map((k) => k.jwk) };
}

let seq = 0;

/** A CompiledIssuer built by hand (the compiler is not needed); `jwks` is merged over the defaults. */
export function makeIssuer(overrides: Partial<Omit<CompiledIssuer, 'jwks'>> & { jwks?: Partial<CompiledJwks> } = {}): CompiledIssuer {
  const name = overrides.name ?? `idp-${++seq}`;
  const namespace = overrides.namespace ?? 'test';
  const jwks: CompiledJwks = {
    discovery: false,
    allowInsecureHttp: false,
    refreshIntervalMs: 600_000,
    minRefreshIntervalMs: 30_000,
    maxStalenessMs: 86_400_000,
    ...overrides.jwks,
  };
  const issuer: CompiledIssuer = {
    key: `${namespace}/${name}`,
    name,
    namespace,
    issuer: 'https://idp.example.test',
    audiences: ['api'],
    algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA'],
    clockSkewSec: 30,
    requiredClaims: ['exp'],
    tokenTypes: [],
    keysFingerprint: JSON.stringify(jwks),
    fingerprint: '',
    ...overrides,
    jwks,
  };
  return { ...issuer, fingerprint: JSON.stringify({ ...issuer, fingerprint: undefined }) };
}

export interface SignOptions {
  key: TestKey;
  /** defaults to the key's alg */
  alg?: string;
  /** defaults to the key's kid; null leaves kid out */
  kid?: string | null;
  typ?: string;
  extraHeader?: Record<string, unknown>;
}

/** A properly signed compact JWS over the payload, through jose's CompactSign. */
export async function signToken(payload: Record<string, unknown>, opts: SignOptions): Promise<string> {
  const header: Record<string, unknown> = { alg: opts.alg ?? opts.key.alg, ...opts.extraHeader };
  const kid = opts.kid === undefined ? opts.key.kid : opts.kid;
  if (kid !== null) header.kid = kid;
  if (opts.typ !== undefined) header.typ = opts.typ;
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader(header as { alg: string })
    .sign(opts.key.privateKey);
}

export function b64url(value: unknown): string {
  const bytes = typeof value === 'string' ? Buffer.from(value) : Buffer.isBuffer(value) ? value : Buffer.from(JSON.stringify(value));
  return bytes.toString('base64url');
}

/** header.payload.signature from raw parts; objects are JSON-encoded, strings used as given (already base64url). */
export function forgeToken(header: unknown, payload: unknown, signature: string | Buffer = ''): string {
  const part = (v: unknown) => (typeof v === 'string' ? v : b64url(v));
  return `${part(header)}.${part(payload)}.${typeof signature === 'string' ? signature : signature.toString('base64url')}`;
}

/**
 * Sign header and payload with node crypto, bypassing jose's checks on the header (crit, b64,
 * short keys); for tokens that must be correctly signed yet malicious.
 */
export function signRaw(
  header: Record<string, unknown>,
  payload: unknown,
  key: KeyObject | Buffer,
  how: 'RS256' | 'ES256' | 'ES256-der' | 'HS256' | 'EdDSA' = 'RS256',
): string {
  const input = `${b64url(header)}.${typeof payload === 'string' ? payload : b64url(payload)}`;
  let sig: Buffer;
  if (how === 'HS256') sig = createHmac('sha256', key as Buffer).update(input).digest();
  else if (how === 'EdDSA') sig = cryptoSign(null, Buffer.from(input), key as KeyObject);
  else if (how === 'RS256') sig = cryptoSign('sha256', Buffer.from(input), key as KeyObject);
  else sig = cryptoSign('sha256', Buffer.from(input), { key: key as KeyObject, dsaEncoding: how === 'ES256' ? 'ieee-p1363' : 'der' });
  return `${input}.${sig.toString('base64url')}`;
}
