/**
 * Whole answers of the HTTP authorization listener, remembered for the requests that
 * repeat them (docs/http-authz.md "Answer cache"). A hit skips reading the request,
 * choosing the policy, the token cache and building the answer: what stays per request
 * is the key (one SHA-256), the metrics and the decision log.
 *
 * The key (http-authz/answer-key.ts) holds everything an allow without a CEL condition
 * is decided on. An entry is used only while
 * - the snapshot is the one it was decided under (any change of configuration or
 *   revocations clears the cache),
 * - the keys of the issuer that verified the token are the same (a rotation, a removal or
 *   keys stale past maxStaleness -> miss, and the full path decides),
 * - and the token is still within exp + the issuer's skew. Every other time check
 *   (nbf, iat, a revocation's expiry) can only turn a denial into an allow, never the
 *   other way round, so an allow stays an allow until then.
 *
 * Only allows with a verified token are kept, from the token's second use on. Not denials
 * (their bodies carry the request id), not audit mode, not a rule with a CEL condition (it
 * reads any header, the peer and the clock), not an answer that rewrites the cookie header
 * (it would hold the client's other cookies), not a sender-constrained token (a new DPoP
 * proof every request), and not a decision that waited for keys.
 */
import type { Allow, Decision } from '../decision.js';
import type { CompiledIssuer, Snapshot } from '../compile/snapshot.js';
import type { KeyLookup } from '../authn/types.js';
import type { OkPlan } from '../respond/plan.js';
import type { CheckLabels } from '../telemetry/metrics.js';
import { FifoQueue } from '../authn/fifo-queue.js';

export const DEFAULT_ANSWER_CACHE_SIZE = 10_000;
/** answers kept for one credential (one token on several paths or hosts); the oldest makes room */
export const ANSWERS_PER_CREDENTIAL = 8;

/**
 * `credential`: the SHA-256 of the request's credential values, so the cache never holds
 * one; `rest`: everything else the answer depends on, as it was sent. Two parts because V8
 * hashes a string key character by character (~2.5 ns each): the map's key is the 32
 * characters of the digest, and `rest` is only compared.
 */
export interface AnswerKey {
  credential: string;
  rest: string;
}

export interface CachedAnswer {
  rest: string;
  plan: OkPlan;
  /** the decision without the token and the explanation: the decision log's sampled allows */
  decision: Allow;
  issuer: CompiledIssuer;
  keysVersion: number;
  /** exp + the issuer's skew */
  validUntilSec: number;
  /** the listener's encoding of `plan`, made on the first hit */
  encoded?: string[];
  /** its labels of claimcheck_checks_total, made on the first hit */
  counted?: CheckLabels;
}

export class AnswerCache {
  /** credential digest -> its answers */
  private readonly byCredential = new Map<string, CachedAnswer[]>();
  /** the digests in the order their first answers came; some already gone */
  private readonly order = new FifoQueue<string>();
  private entries = 0;
  private snapshot: Snapshot | undefined;

  /** `capacity`: answers kept in all */
  constructor(readonly capacity: number) {}

  get size(): number {
    return this.entries;
  }

  get(key: AnswerKey, snapshot: Snapshot, keys: KeyLookup, nowSec: number): CachedAnswer | undefined {
    if (snapshot !== this.snapshot) {
      this.reset(snapshot);
      return undefined;
    }
    const answers = this.byCredential.get(key.credential);
    if (answers === undefined) return undefined;
    for (let i = 0; i < answers.length; i++) {
      const entry = answers[i]!;
      if (entry.rest !== key.rest) continue;
      if (nowSec < entry.validUntilSec && keys.keysVersion?.(entry.issuer) === entry.keysVersion) return entry;
      answers.splice(i, 1);
      this.entries--;
      if (answers.length === 0) this.byCredential.delete(key.credential);
      return undefined;
    }
    return undefined;
  }

  /** Remembers `decision` when it may be (see the module comment); decided in this very tick. */
  remember(key: AnswerKey, snapshot: Snapshot, keys: KeyLookup, decision: Decision, plan: OkPlan): void {
    if (this.capacity <= 0 || !decision.allow || decision.auditedDeny || decision.rule?.condition) return;
    const v = decision.verified;
    const exp = v?.claims.exp;
    // A token's first use is never remembered: a stream of new tokens would only fill the
    // cache (and its garbage collection) with answers nobody asks for again.
    if (!v?.reused || typeof exp !== 'number') return;
    // a sender-constrained token comes with a new proof (or a peer certificate) every time
    if (v.claims.cnf !== undefined) return;
    // an introspected token is good for as long as its answer is cached (cacheTTL), not until its exp
    if (v.alg === 'introspection') return;
    if (plan.headersToSet.some((h) => h.name === 'cookie')) return;
    // an identity token is reused for half its ttl only, and carries the caller's principal
    if (decision.policy?.identity.token) return;
    const keysVersion = keys.keysVersion?.(v.issuer);
    if (keysVersion === undefined) return;
    if (snapshot !== this.snapshot) this.reset(snapshot);
    let answers = this.byCredential.get(key.credential);
    if (answers === undefined) {
      answers = [];
      this.byCredential.set(key.credential, answers);
      this.order.push(key.credential);
    }
    const same = answers.findIndex((e) => e.rest === key.rest);
    if (same !== -1) {
      answers.splice(same, 1);
      this.entries--;
    } else if (answers.length >= ANSWERS_PER_CREDENTIAL) {
      answers.shift();
      this.entries--;
    }
    answers.push({
      rest: key.rest,
      plan,
      decision: { ...decision, verified: { ...v, token: '' }, steps: [] },
      issuer: v.issuer,
      keysVersion,
      validUntilSec: exp + v.issuer.clockSkewSec,
    });
    this.entries++;
    while (this.entries > this.capacity) {
      if (this.byCredential.size > 1) this.dropOldest(answers);
      else {
        // a capacity below ANSWERS_PER_CREDENTIAL
        answers.shift();
        this.entries--;
      }
    }
  }

  /** The credential seen first goes, with all its answers; never `keep`, the one just added to. */
  private dropOldest(keep: CachedAnswer[]): void {
    for (let credential = this.order.shift(); credential !== undefined; credential = this.order.shift()) {
      const answers = this.byCredential.get(credential);
      if (answers === undefined) continue;
      if (answers === keep) {
        this.order.push(credential);
        continue;
      }
      this.byCredential.delete(credential);
      this.entries -= answers.length;
      return;
    }
  }

  private reset(snapshot: Snapshot): void {
    this.byCredential.clear();
    this.order.clear();
    this.entries = 0;
    this.snapshot = snapshot;
  }
}
