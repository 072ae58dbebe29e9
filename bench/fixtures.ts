/**
 * Benchmark keys, tokens and configuration. Keys and token pools are generated once and
 * cached under ~/.cache/claimcheck/bench-data/ (signing 100,000 RS256 tokens takes a minute);
 * tokens expire in a year and are regenerated when less than a week is left.
 */
import { generateKeyPairSync, createPrivateKey, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { CompactEncrypt } from 'jose';
import { existsSync, mkdirSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

export const ISSUER = 'https://bench.claimcheck.invalid';
export const AUDIENCE = 'bench-api';
export const HOST = 'api.bench.example';
export type Alg = 'RS256' | 'ES256' | 'EdDSA';
const ALGS: Alg[] = ['RS256', 'ES256', 'EdDSA'];
const KID: Record<Alg, string> = { RS256: 'bench-rs256', ES256: 'bench-es256', EdDSA: 'bench-eddsa' };
const LIFETIME_SEC = 365 * 86400;
const MIN_LEFT_SEC = 7 * 86400;

export const DATA_DIR = join(process.env.CLAIMCHECK_CACHE ?? join(homedir(), '.cache', 'claimcheck'), 'bench-data', 'v1');

interface StoredKeys {
  /** PKCS#8 PEM private keys */
  private: Record<Alg, string>;
  /** public JWKs with kid, alg, use */
  public: Record<Alg, Record<string, unknown>>;
  /** a second RS256 key that no issuer trusts: signs the forged tokens */
  attacker: string;
}

function generate(alg: Alg): KeyObject {
  if (alg === 'RS256') return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  if (alg === 'ES256') return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  return generateKeyPairSync('ed25519').privateKey;
}

export function benchKeys(): StoredKeys {
  const file = join(DATA_DIR, 'keys.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as StoredKeys;
  mkdirSync(DATA_DIR, { recursive: true });
  const priv = {} as Record<Alg, string>;
  const pub = {} as Record<Alg, Record<string, unknown>>;
  for (const alg of ALGS) {
    const k = generate(alg);
    priv[alg] = k.export({ type: 'pkcs8', format: 'pem' }) as string;
    pub[alg] = { ...(createPrivateKey(priv[alg]).export({ format: 'jwk' }) as Record<string, unknown>), kid: KID[alg], alg, use: 'sig' };
    for (const f of ['d', 'p', 'q', 'dp', 'dq', 'qi']) delete pub[alg][f];
  }
  const stored: StoredKeys = { private: priv, public: pub, attacker: generate('RS256').export({ type: 'pkcs8', format: 'pem' }) as string };
  writeFileSync(file, JSON.stringify(stored));
  return stored;
}

/** Runs in worker threads: signs tokens [from, to) for one algorithm with node:crypto. */
const SIGNER = `
const { parentPort, workerData } = require('node:worker_threads');
const crypto = require('node:crypto');
const { pem, alg, kid, iss, aud, from, to, iat, exp } = workerData;
const key = crypto.createPrivateKey(pem);
const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
const header = b64({ alg, kid, typ: 'JWT' });
const out = [];
for (let i = from; i < to; i++) {
  const payload = b64({ iss, aud, sub: 'user-' + i, scope: 'orders:read profile', tenant: 'acme', groups: ['staff', 'admins'], iat, exp, jti: alg + '-' + i });
  const input = header + '.' + payload;
  const sig = alg === 'EdDSA' ? crypto.sign(null, Buffer.from(input), key)
    : crypto.sign('sha256', Buffer.from(input), alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key);
  out.push(input + '.' + sig.toString('base64url'));
}
parentPort.postMessage(out);
`;

async function signRange(pem: string, alg: Alg, from: number, to: number, iat: number, exp: number, threads: number): Promise<string[]> {
  const per = Math.ceil((to - from) / threads);
  const parts = await Promise.all(
    Array.from({ length: threads }, (_, t) => {
      const a = from + t * per;
      const b = Math.min(to, a + per);
      if (a >= b) return Promise.resolve([] as string[]);
      return new Promise<string[]>((resolve, reject) => {
        const w = new Worker(SIGNER, { eval: true, workerData: { pem, alg, kid: KID[alg], iss: ISSUER, aud: AUDIENCE, from: a, to: b, iat, exp } });
        w.once('message', resolve);
        w.once('error', reject);
      });
    }),
  );
  return parts.flat();
}

/** At least `count` distinct valid tokens of `alg`, all with the same iat/exp (cached on disk). */
export async function tokenPool(alg: Alg, count: number, log: (m: string) => void): Promise<string[]> {
  const keys = benchKeys();
  const file = join(DATA_DIR, `pool-${alg}.txt`);
  const meta = join(DATA_DIR, `pool-${alg}.json`);
  const now = Math.floor(Date.now() / 1000);
  let info = existsSync(meta) ? (JSON.parse(readFileSync(meta, 'utf8')) as { iat: number; exp: number; count: number }) : undefined;
  if (!info || info.exp - now < MIN_LEFT_SEC || !existsSync(file)) {
    info = { iat: now, exp: now + LIFETIME_SEC, count: 0 };
    writeFileSync(file, '');
  }
  if (info.count < count) {
    const t0 = Date.now();
    log(`signing ${count - info.count} ${alg} tokens (once; cached in ${DATA_DIR})`);
    const fresh = await signRange(keys.private[alg], alg, info.count, count, info.iat, info.exp, 2);
    appendFileSync(file, fresh.join('\n') + '\n');
    info.count = count;
    writeFileSync(meta, JSON.stringify(info));
    log(`  signed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).slice(0, count);
}

/** One token signed by a key nobody trusts, with the RS256 key's kid: a bad signature. */
export async function forgedToken(): Promise<string> {
  const keys = benchKeys();
  const now = Math.floor(Date.now() / 1000);
  const [t] = await signRange(keys.attacker, 'RS256', 0, 1, now, now + LIFETIME_SEC, 1);
  return t!;
}

const CEL_RULE = {
  name: 'cel',
  match: { paths: ['/cel/**'] },
  require: {
    scopes: { allOf: ['orders:read'] },
    when: "claims.tenant in ['acme', 'globex'] && 'admins' in claims.groups && claims.sub.matches('^user-[0-9]+$') && request.path.startsWith('/cel/') && !('x-debug' in request.headers)",
  },
};

/** The issuer's RSA decryption key for the JWE rows (PKCS#8 PEM), generated once like the signing keys. */
export function decryptionKey(): KeyObject {
  const file = join(DATA_DIR, 'decryption-key.pem');
  if (!existsSync(file)) {
    mkdirSync(DATA_DIR, { recursive: true });
    writeFileSync(file, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
  }
  return createPrivateKey(readFileSync(file));
}

/** `count` distinct opaque tokens: 32 random bytes, base64url (one segment, so never taken for a JWT) */
export function opaqueTokens(count: number): string[] {
  return Array.from({ length: count }, () => randomBytes(32).toString('base64url'));
}

/** `tokens` as compact JWEs for decryptionKey(): RSA-OAEP-256 + A256GCM, cty JWT (a public-key operation each, ~0.1 ms). */
export async function encryptTokens(tokens: readonly string[]): Promise<string[]> {
  const key = createPublicKey(decryptionKey());
  const out: string[] = [];
  for (const t of tokens) out.push(await new CompactEncrypt(new TextEncoder().encode(t)).setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', cty: 'JWT' }).encrypt(key));
  return out;
}

/**
 * A config directory: one TrustedIssuer (RS256, ES256, EdDSA keys inline) and `policies` AuthPolicies; `identityToken`: the
 * first one signs identity tokens; `decryption`: the issuer decrypts JWEs with decryptionKey(); `introspection`: the
 * issuer's introspection endpoint (its client secret beside the config).
 */
export function writeConfig(dir: string, policies: number, opts: { identityToken?: boolean; decryption?: boolean; introspection?: string } = {}): void {
  mkdirSync(dir, { recursive: true });
  const keys = benchKeys();
  if (opts.decryption) writeFileSync(join(dir, 'decryption-key.pem'), decryptionKey().export({ type: 'pkcs8', format: 'pem' }));
  if (opts.introspection) writeFileSync(join(dir, 'introspection-secret'), 'bench-secret\n');
  const introspection = opts.introspection
    ? { introspection: { endpoint: opts.introspection, clientId: 'claimcheck', clientSecretRef: { path: './introspection-secret' }, allowInsecureHttp: true, cacheTTL: '5m' } }
    : {};
  const issuer = {
    apiVersion: 'claimcheck.io/v1alpha1',
    kind: 'TrustedIssuer',
    metadata: { name: 'bench-idp' },
    spec: {
      issuer: ISSUER, audiences: [AUDIENCE], algorithms: ALGS, jwks: { inline: { keys: ALGS.map((a) => keys.public[a]) } },
      ...(opts.decryption ? { decryption: { secretRef: { path: './decryption-key.pem' } } } : {}),
      ...introspection,
    },
  };
  writeFileSync(join(dir, 'issuer.yaml'), JSON.stringify(issuer) + '\n');
  const docs: string[] = [];
  for (let i = 0; i < policies; i++) {
    const host = i === 0 ? HOST : `svc-${i}.bench.example`;
    docs.push(
      JSON.stringify({
        apiVersion: 'claimcheck.io/v1alpha1',
        kind: 'AuthPolicy',
        metadata: { name: i === 0 ? 'api' : `svc-${i}` },
        spec: {
          hosts: [host, `*.${host}`],
          issuers: ['bench-idp'],
          rules: [
            { name: 'health', match: { paths: ['/healthz'], methods: ['GET'] }, action: 'allowAnonymous' },
            {
              name: 'claims',
              match: { paths: ['/claims/**'] },
              require: {
                scopes: { allOf: ['orders:read'] },
                claims: [
                  { claim: 'tenant', in: ['acme', 'globex'] },
                  { claim: 'groups', contains: 'admins' },
                  { claim: 'sub', matches: '^user-[0-9]+$' },
                ],
              },
            },
            // the `claims` rule's checks as one CEL condition, plus a path and a header test (first policy only)
            ...(i === 0 ? [CEL_RULE] : []),
            { name: 'orders', match: { paths: ['/api/**'] }, require: { scopes: { allOf: ['orders:read'] } } },
            { name: 'legacy', match: { paths: ['/legacy/**'] }, action: 'deny' },
          ],
          identity: { headers: { 'x-user-id': 'sub' }, ...(i === 0 && opts.identityToken ? { token: { audiences: ['orders'], claims: { sub: 'sub', tenant: 'tenant', scope: 'scope' } } } : {}) },
        },
      }),
    );
  }
  // JSON is YAML: one document per policy, no YAML emitter needed for 10,000 of them.
  writeFileSync(join(dir, 'policies.yaml'), docs.join('\n---\n') + '\n');
}

/** The peer's Rego input data: the same JWKS, as the string io.jwt.decode_verify takes. */
export function peerData(): string {
  const keys = benchKeys();
  return JSON.stringify({ bench: { jwks: JSON.stringify({ keys: [keys.public.RS256] }), issuer: ISSUER, audience: AUDIENCE } });
}
