/**
 * Mints the identity token of an allowed request (docs/identity-tokens.md). A repeated
 * upstream token reuses its identity token until half of that token's lifetime has passed,
 * so a steady caller costs one signature per half ttl, not one per request. The cache is
 * bounded, keyed by the SHA-256 of the upstream token with the policy, audience and actor,
 * holds a token from its upstream token's second use on, and starts empty whenever the keys
 * change.
 */
import { randomUUID } from 'node:crypto';
import { getClaim } from '../authz/claims.js';
import { Lru, type LruStamped } from '../authn/lru.js';
import type { CompiledIdentityToken } from '../compile/snapshot.js';
import type { Verified } from '../decision.js';
import { sha256Binary } from '../digest.js';
import type { KeyState } from './key-directory.js';
import { signJwt } from './sign-jwt.js';

export const DEFAULT_IDENTITY_CACHE_SIZE = 10_000;

export interface MintRequest {
  /** namespace/name of the policy */
  policyKey: string;
  token: CompiledIdentityToken;
  verified: Verified;
  /** the request's normalised host: the audience when the policy names none */
  host: string;
  /** the source principal Envoy reports (a SPIFFE ID), or '' */
  actor: string;
  nowSec: number;
}

interface Minted extends LruStamped {
  jwt: string;
  reuseUntilSec: number;
  config: CompiledIdentityToken;
}

export class IdentityTokenMinter {
  private cache: Lru<string, Minted>;
  private cacheKeys: number;

  constructor(private readonly opts: { issuer: string; keys: () => KeyState; cacheSize?: number }) {
    this.cache = new Lru(opts.cacheSize ?? DEFAULT_IDENTITY_CACHE_SIZE);
    this.cacheKeys = opts.keys().version;
  }

  /** The token, or undefined when no signing key is usable. */
  mint(m: MintRequest): string | undefined {
    const state = this.opts.keys();
    const signer = state.signer;
    if (!signer) return undefined;
    if (state.version !== this.cacheKeys) {
      this.cache = new Lru(this.cache.capacity);
      this.cacheKeys = state.version;
    }
    const aud = m.token.audiences ?? [m.host];
    // A token's first use is not remembered (as in the answer cache): a stream of new tokens
    // would only churn the cache and its garbage collection.
    const key = m.verified.reused ? `${m.verified.digest ?? sha256Binary(m.verified.token)}\0${m.policyKey}\0${aud.join('\0')}\0${m.actor}` : undefined;
    const hit = key === undefined ? undefined : this.cache.get(key);
    if (hit && hit.config === m.token && m.nowSec < hit.reuseUntilSec) return hit.jwt;

    const iat = Math.floor(m.nowSec);
    const upstreamExp = m.verified.claims.exp;
    const exp = Math.min(iat + m.token.ttlSec, typeof upstreamExp === 'number' ? Math.floor(upstreamExp) : iat + m.token.ttlSec);
    const payload: Record<string, unknown> = { iss: this.opts.issuer, aud: aud.length === 1 ? aud[0] : aud, iat, exp, jti: randomUUID() };
    for (const c of m.token.claims) {
      const v = getClaim(m.verified.claims, c.claimPath);
      if (v !== undefined) payload[c.name] = v;
    }
    if (m.actor !== '') payload.act = { sub: m.actor };
    const jwt = signJwt(signer, payload);
    if (key !== undefined) this.cache.set(key, { jwt, reuseUntilSec: iat + (exp - iat) / 2, config: m.token, lruTick: 0 });
    return jwt;
  }
}
