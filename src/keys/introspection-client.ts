/**
 * OAuth 2.0 Token Introspection (RFC 7662) for one TrustedIssuer's opaque tokens
 * (docs/token-formats.md): client_secret_basic, the JWKS client's fetch limits, one request
 * in flight per token, and a bounded cache keyed by the token's SHA-256, never the token.
 * A request waits for the endpoint at most `coldWaitMs`; the introspection goes on and fills
 * the cache for the next one.
 */
import http from 'node:http';
import https from 'node:https';
import type { CompiledIssuer } from '../compile/snapshot.js';
import { invalid, INTROSPECTION_UNAVAILABLE } from '../authn/invalid.js';
import { Lru, type LruStamped } from '../authn/lru.js';
import type { Introspected, VerifyFailure } from '../authn/types.js';
import { sha256Binary } from '../digest.js';
import type { MaybePromise } from '../maybe-async.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import { ClaimcheckError } from '../errors.js';
import { ClientCredential, formEncode } from './client-credential.js';
import { fetchJson } from './fetch-json.js';
import { outcomeOf } from './fetch-outcome.js';
import type { TraceFetch } from './key-set.js';
import type { SecretReader } from './local-key-source.js';
import { settledWithin, type Scheduler } from './scheduler.js';

export const INTROSPECTION_CACHE_SIZE = 10_000;
/** RFC 7662 §4 leaves the inactive case to the server; this is the contract's */
export const INACTIVE_TTL_MS = 10_000;
export const MAX_ANSWER_BYTES = 64 * 1024;
/** connections kept open to one endpoint: enough for a burst of misses, bounded for the IdP's sake */
export const MAX_CONNECTIONS = 16;

type Answer = Introspected | VerifyFailure;

interface Cached extends LruStamped {
  answer: Answer;
  untilMs: number;
}

export interface IntrospectionOptions {
  logger: Logger;
  metrics?: Metrics;
  scheduler: Scheduler;
  fetchTimeoutMs: number;
  coldWaitMs: number;
  readSecret?: SecretReader;
  traceFetch?: TraceFetch;
}

export class IntrospectionClient {
  readonly fingerprint: string;
  private readonly cache = new Lru<string, Cached>(INTROSPECTION_CACHE_SIZE);
  private readonly inflight = new Map<string, Promise<Answer>>();
  /**
   * Keep-alive connections of this issuer only (they hold its caBundle): a miss costs a request,
   * not a TCP and TLS handshake (docs/performance.md). The endpoint and CA are in the fingerprint,
   * so a change makes a new client and a new agent.
   */
  private readonly agent: http.Agent;
  private readonly credential: ClientCredential;

  constructor(private issuer: CompiledIssuer, private readonly opts: IntrospectionOptions) {
    const cfg = issuer.introspection!;
    this.fingerprint = cfg.fingerprint;
    const pool = { keepAlive: true, maxSockets: MAX_CONNECTIONS, maxFreeSockets: MAX_CONNECTIONS };
    this.credential = new ClientCredential(issuer, opts.scheduler, opts.readSecret);
    this.agent = cfg.endpoint.startsWith('https:') ? new https.Agent({ ...pool, ...(cfg.caBundle !== undefined ? { ca: cfg.caBundle } : {}) }) : new http.Agent(pool);
  }

  close(): void {
    this.agent.destroy();
    this.cache.clear();
  }

  update(issuer: CompiledIssuer): void {
    this.issuer = issuer;
    this.credential.update(issuer);
  }

  introspect(token: string): MaybePromise<Answer> {
    const h = sha256Binary(token);
    const hit = this.cache.get(h);
    if (hit && this.opts.scheduler.now() < hit.untilMs) {
      this.opts.metrics?.countIntrospectionCacheLookup('hit');
      return hit.answer;
    }
    this.opts.metrics?.countIntrospectionCacheLookup('miss');
    let pending = this.inflight.get(h);
    if (!pending) {
      pending = this.ask(h, token).finally(() => this.inflight.delete(h));
      this.inflight.set(h, pending);
    }
    const answer = pending;
    return settledWithin(answer, this.opts.coldWaitMs, this.opts.scheduler).then((done) => (done ? answer : INTROSPECTION_UNAVAILABLE));
  }

  private async ask(h: string, token: string): Promise<Answer> {
    const cfg = this.issuer.introspection!;
    const auth = this.credential.authenticate();
    if (auth === undefined) {
      this.opts.logger.error({ issuer: this.issuer.key, clientAuth: cfg.clientAuth }, 'introspection client credential not available');
      this.count('unreadable');
      return INTROSPECTION_UNAVAILABLE;
    }
    let body: unknown;
    const span = this.opts.traceFetch?.('introspection', this.issuer.key);
    try {
      ({ body } = await fetchJson(cfg.endpoint, {
        allowInsecureHttp: cfg.allowInsecureHttp,
        timeoutMs: this.opts.fetchTimeoutMs,
        maxBytes: MAX_ANSWER_BYTES,
        agent: this.agent,
        post: {
          body: `token=${formEncode(token)}&token_type_hint=access_token${auth.form}`,
          headers: { ...auth.headers, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        },
      }));
    } catch (err) {
      // only fetch-json's own coarse messages (no URL, no token, no server text) and its code
      const problem = err instanceof ClaimcheckError ? { code: err.code, problem: err.message } : { problem: 'failed' };
      this.opts.logger.warn({ issuer: this.issuer.key, ...problem }, 'introspection endpoint failed');
      this.count(outcomeOf(err), span);
      return INTROSPECTION_UNAVAILABLE;
    }
    const now = this.opts.scheduler.now();
    const answer = toAnswer(body);
    this.count(answer.ok ? 'active' : 'inactive', span);
    const untilMs = answer.ok ? Math.min(now + cfg.cacheTtlSec * 1000, expMs(answer.claims) ?? Infinity) : now + INACTIVE_TTL_MS;
    if (untilMs > now && (cfg.cacheTtlSec > 0 || !answer.ok)) this.cache.set(h, { answer, untilMs, lruTick: 0 });
    return answer;
  }

  private count(outcome: string, span?: (outcome: string) => void): void {
    this.opts.metrics?.introspectionRequests.inc({ issuer: this.issuer.key, outcome });
    span?.(outcome);
  }
}

/** RFC 7662 §2.2: `active` is a boolean; anything else is not an active token. */
function toAnswer(body: unknown): Answer {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return invalid('token_inactive');
  const { active, ...claims } = body as Record<string, unknown>;
  if (active !== true) return invalid('token_inactive');
  return { ok: true, claims };
}

function expMs(claims: Record<string, unknown>): number | undefined {
  return typeof claims.exp === 'number' && Number.isFinite(claims.exp) ? claims.exp * 1000 : undefined;
}

