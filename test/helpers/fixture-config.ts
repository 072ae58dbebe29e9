/** A temp config directory with a generated signing key, one inline issuer and a policy. */
import { mkdir, mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { stringify } from 'yaml';
import { KeyObject } from 'node:crypto';

export const ISSUER = 'https://idp.test.invalid/realms/corp';
export const AUDIENCE = 'payments-api';

export interface Fixture {
  dir: string;
  sign(claims?: JWTPayload, opts?: { header?: Record<string, unknown>; omit?: string[] }): Promise<string>;
  write(name: string, docs: unknown[]): Promise<void>;
  /** any file, in a subdirectory too (created) */
  writeRaw(name: string, text: string | Buffer): Promise<void>;
  cleanup(): Promise<void>;
  /** the signing key, for tokens built byte by byte (signRaw) */
  privateKey(): KeyObject;
  /** the signing key's public JWK under another kid, for a TrustedIssuer of a test's own */
  publicJwk(kid: string): Record<string, unknown>;
}

/** Any claimcheck resource, by kind, name and spec. */
export function resourceDoc(kind: string, name: string, spec: Record<string, unknown>) {
  return { apiVersion: 'claimcheck.io/v1alpha1', kind, metadata: { name }, spec };
}

export function issuerDoc(jwks: unknown, extra: Record<string, unknown> = {}) {
  return {
    apiVersion: 'claimcheck.io/v1alpha1',
    kind: 'TrustedIssuer',
    metadata: { name: 'corp-idp' },
    spec: { issuer: ISSUER, jwks: { inline: jwks }, audiences: [AUDIENCE], maxTokenLifetime: '1h', ...extra },
  };
}

export function paymentsPolicy(overrides: Record<string, unknown> = {}) {
  return {
    apiVersion: 'claimcheck.io/v1alpha1',
    kind: 'AuthPolicy',
    metadata: { name: 'payments' },
    spec: {
      hosts: ['payments.example.com', '*.payments.svc.cluster.local'],
      issuers: ['corp-idp'],
      rules: [
        { name: 'health', match: { paths: ['/healthz'], methods: ['GET'] }, action: 'allowAnonymous' },
        {
          name: 'write',
          match: { paths: ['/v1/payments/**'], methods: ['POST', 'PUT'] },
          require: { scopes: { allOf: ['payments:write'] }, claims: [{ claim: 'tenant', in: ['acme', 'globex'] }] },
        },
        { name: 'read', match: { paths: ['/v1/**'] }, require: { scopes: { anyOf: ['payments:read', 'payments:write'] } } },
        { name: 'legacy', match: { paths: ['/v0/**'] }, action: 'deny' },
      ],
      identity: { headers: { 'x-user-id': 'sub', 'x-tenant': 'tenant', 'x-scopes': 'scope' }, forwardToken: true },
      ...overrides,
    },
  };
}

export async function createFixture(): Promise<Fixture> {
  const dir = await mkdtemp(join(tmpdir(), 'claimcheck-fixture-'));
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  const write = async (name: string, docs: unknown[]) => {
    await writeFile(join(dir, name), docs.map((d) => stringify(d)).join('---\n'));
  };
  await write('issuer.yaml', [issuerDoc({ keys: [jwk] })]);
  await write('policy.yaml', [paymentsPolicy()]);
  return {
    dir,
    write,
    writeRaw: async (name, text) => {
      await mkdir(dirname(join(dir, name)), { recursive: true });
      await writeFile(join(dir, name), text);
    },
    sign: async (claims = {}, opts = {}) => {
      const now = Math.floor(Date.now() / 1000);
      const payload: JWTPayload = { iss: ISSUER, aud: AUDIENCE, sub: 'user-1', iat: now, exp: now + 600, scope: 'payments:read', ...claims };
      for (const k of opts.omit ?? []) delete payload[k];
      return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: 'k1', typ: 'JWT', ...opts.header }).sign(privateKey);
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
    privateKey: () => KeyObject.from(privateKey as CryptoKey),
    // without alg: the same RSA key also signs PS256 for a test
    publicJwk: (kid) => ({ kty: jwk.kty, n: jwk.n, e: jwk.e, kid }),
  };
}
