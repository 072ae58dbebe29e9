/**
 * OAuth 2.0 Token Introspection (RFC 7662) for one TrustedIssuer's opaque tokens
 * (docs/token-formats.md): client_secret_basic, the JWKS client's fetch limits, one request
 * in flight per token, and a bounded cache keyed by the token's SHA-256, never the token.
 * A request waits for the endpoint at most `coldWaitMs`; the introspection goes on and fills
 * the cache for the next one.
 */
import { readFileSync } from 'node:fs';
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
import { fetchJson } from './fetch-json.js';
import { outcomeOf } from './fetch-outcome.js';
import type { SecretReader } from './local-key-source.js';
import { settledWithin, type Scheduler } from './scheduler.js';

export const INTROSPECTION_CACHE_SIZE = 10_000;
/** RFC 7662 §4 leaves the inactive case to the server; this is the contract's */
export const INACTIVE_TTL_MS = 10_000;
export const MAX_ANSWER_BYTES = 64 * 1024;
/** connections kept open to one endpoint: enough for a burst of misses, bounded for the IdP's sake */
export const MAX_CONNECTIONS = 16;
const SECRET_REREAD_MS = 2000;

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
  private secret: { value: string; readAtMs: number } | undefined;

  constructor(private issuer: CompiledIssuer, private readonly opts: IntrospectionOptions) {
    const cfg = issuer.introspection!;
    this.fingerprint = cfg.fingerprint;
    const pool = { keepAlive: true, maxSockets: MAX_CONNECTIONS, maxFreeSockets: MAX_CONNECTIONS };
    this.agent = cfg.endpoint.startsWith('https:') ? new https.Agent({ ...pool, ...(cfg.caBundle !== undefined ? { ca: cfg.caBundle } : {}) }) : new http.Agent(pool);
  }

  close(): void {
    this.agent.destroy();
    this.cache.clear();
  }

  update(issuer: CompiledIssuer): void {
    this.issuer = issuer;
    this.secret = undefined;
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
    const secret = this.clientSecret();
    if (secret === undefined) {
      this.opts.logger.error({ issuer: this.issuer.key }, 'introspection client secret not available');
      this.count('unreadable');
      return INTROSPECTION_UNAVAILABLE;
    }
    // RFC 6749 §2.3.1: client id and secret form-encoded, then joined for HTTP Basic
    const basic = Buffer.from(`${formEncode(cfg.clientId)}:${formEncode(secret)}`).toString('base64');
    let body: unknown;
    try {
      ({ body } = await fetchJson(cfg.endpoint, {
        allowInsecureHttp: cfg.allowInsecureHttp,
        timeoutMs: this.opts.fetchTimeoutMs,
        maxBytes: MAX_ANSWER_BYTES,
        agent: this.agent,
        post: {
          body: `token=${formEncode(token)}&token_type_hint=access_token`,
          headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        },
      }));
    } catch (err) {
      // only fetch-json's own coarse messages (no URL, no token, no server text) and its code
      const problem = err instanceof ClaimcheckError ? { code: err.code, problem: err.message } : { problem: 'failed' };
      this.opts.logger.warn({ issuer: this.issuer.key, ...problem }, 'introspection endpoint failed');
      this.count(outcomeOf(err));
      return INTROSPECTION_UNAVAILABLE;
    }
    const now = this.opts.scheduler.now();
    const answer = toAnswer(body);
    this.count(answer.ok ? 'active' : 'inactive');
    const untilMs = answer.ok ? Math.min(now + cfg.cacheTtlSec * 1000, expMs(answer.claims) ?? Infinity) : now + INACTIVE_TTL_MS;
    if (untilMs > now && (cfg.cacheTtlSec > 0 || !answer.ok)) this.cache.set(h, { answer, untilMs, lruTick: 0 });
    return answer;
  }

  private count(outcome: string): void {
    this.opts.metrics?.introspectionRequests.inc({ issuer: this.issuer.key, outcome });
  }

  /** The secret file is read again once it is 2 s old (like a key file's poll), not on every miss. */
  private clientSecret(): string | undefined {
    const now = this.opts.scheduler.now();
    if (this.secret && now - this.secret.readAtMs < SECRET_REREAD_MS) return this.secret.value;
    const value = this.readClientSecret();
    this.secret = value === undefined ? undefined : { value, readAtMs: now };
    return value;
  }

  private readClientSecret(): string | undefined {
    const cfg = this.issuer.introspection!;
    let content: Buffer | undefined;
    try {
      content = cfg.secretPath !== undefined ? readFileSync(cfg.secretPath) : cfg.secretRef ? this.opts.readSecret?.(this.issuer, cfg.secretRef) : undefined;
    } catch {
      return undefined;
    }
    if (!content || content.length === 0) return undefined;
    // a trailing newline from `echo` or an editor is not part of the secret
    return content.toString('utf8').replace(/\r?\n$/, '');
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

/** application/x-www-form-urlencoded (WHATWG URL §5.2): what URLSearchParams writes */
const formEncode = (s: string): string => new URLSearchParams({ v: s }).toString().slice(2);
