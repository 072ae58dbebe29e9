/**
 * One rule with a `when` condition, compiled by the real compiler and decided by the real
 * pipeline against a real key set (inline JWKS, no network).
 */
import { compileSnapshot } from '../../src/compile/compile-snapshot.js';
import { KeyRegistry } from '../../src/keys/key-registry.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { decideRequest } from '../../src/pipeline/decide-request.js';
import type { AnyResource } from '../../src/model/types.js';
import type { AuthRequest } from '../../src/request.js';
import type { Decision } from '../../src/decision.js';
import type { Snapshot } from '../../src/compile/snapshot.js';
import { generateKey, jwksOf, signToken } from './tokens.js';
import { TokenCache } from '../../src/authn/token-cache.js';

export const CEL_NOW = 1_800_000_000;
const ISS = 'https://idp.cel.test';
const key = generateKey('ES256', 'cel-1');

export const celIssuer: AnyResource = {
  apiVersion: 'claimcheck.io/v1alpha1',
  kind: 'TrustedIssuer',
  metadata: { name: 'idp' },
  spec: { issuer: ISS, jwks: { inline: jwksOf(key) }, audiences: ['api'] },
};

export function celPolicy(when: string, mode: 'enforce' | 'audit' = 'enforce'): AnyResource {
  return {
    apiVersion: 'claimcheck.io/v1alpha1',
    kind: 'AuthPolicy',
    metadata: { name: 'cel' },
    spec: { hosts: ['api.example.com'], issuers: ['idp'], mode, rules: [{ name: 'guarded', match: { paths: ['/**'] }, require: { when } }] },
  };
}

export function compileWhen(when: string, mode: 'enforce' | 'audit' = 'enforce') {
  return compileSnapshot([celIssuer, celPolicy(when, mode)], { namespace: 'test', generation: 1, nowMs: CEL_NOW * 1000 });
}

export function signClaims(claims: Record<string, unknown>): Promise<string> {
  return signToken({ iss: ISS, aud: 'api', sub: 'alice', iat: CEL_NOW - 10, exp: CEL_NOW + 600, ...claims }, { key });
}

export interface CelRequestInput {
  claims?: Record<string, unknown>;
  path?: string;
  method?: string;
  headers?: Record<string, string | string[]>;
  host?: string;
  source?: { principal: string; address: string };
}

export class CelHarness {
  readonly keys = new KeyRegistry({ logger: silentLogger(), now: () => CEL_NOW * 1000 });
  private ready: Promise<unknown> | undefined;

  async decide(snapshot: Snapshot, input: CelRequestInput = {}): Promise<Decision> {
    this.ready ??= (this.keys.sync(snapshot.issuers.values()), this.keys.waitReady(5000));
    await this.ready;
    const headers = new Map<string, string[]>();
    for (const [k, v] of Object.entries(input.headers ?? {})) headers.set(k.toLowerCase(), Array.isArray(v) ? v : [v]);
    if (input.claims) headers.set('authorization', [`Bearer ${await signClaims(input.claims)}`]);
    const req: AuthRequest = {
      method: input.method ?? 'GET',
      host: input.host ?? 'api.example.com',
      path: input.path ?? '/',
      headers,
      contextExtensions: {},
      requestId: 'r1',
      scheme: 'https',
      source: input.source ?? { principal: 'spiffe://cluster.local/ns/shop/sa/web', address: '10.1.2.3' },
      destination: { principal: 'spiffe://cluster.local/ns/api/sa/api', address: '10.4.5.6' },
    };
    return decideRequest(req, { tokenCache: new TokenCache({ size: 0 }), snapshot, keys: this.keys, nowSec: CEL_NOW, options: { unmatchedHost: 'deny', maxTokenBytes: 16 * 1024 }, explain: true });
  }

  close(): void {
    this.keys.close();
  }
}

/** allow, or the deny reason */
export function outcome(d: Decision): string {
  return d.allow ? 'allow' : d.reason;
}
