/** Wraps decideRequest with snapshot access, response building, metrics and fail-closed handling. */
import type { AuthRequest } from '../request.js';
import type { Snapshot } from '../compile/snapshot.js';
import type { KeyLookup } from '../authn/types.js';
import type { TokenCache } from '../authn/token-cache.js';
import type { ResponsePlan } from '../respond/plan.js';
import { Metrics, type Protocol } from '../telemetry/metrics.js';
import { BatchedHistogram } from '../telemetry/batched-histogram.js';
import type { Logger } from '../telemetry/logger.js';
import type { Decision } from '../decision.js';
import { decideRequest, type DecideOptions } from './decide-request.js';
import { buildAllowPlan } from '../respond/build-allow.js';
import { buildDenyPlan } from '../respond/build-deny.js';
import { internalErrorPlan } from '../respond/request-refusals.js';
import { normalizeHost } from '../authz/normalize-host.js';
import { createDecisionLog, type DecisionLog } from '../telemetry/decision-log.js';
import { isPromise, type MaybePromise } from '../maybe-async.js';
import type { AnswerCache, AnswerKey, CachedAnswer } from './answer-cache.js';
import { defaultSenderContext, type SenderContext } from './check-sender.js';
import { identityTokenFor, type IdentityTokenSource } from './identity-token.js';

export interface CheckHandlerDeps {
  getSnapshot(): Snapshot | undefined;
  keys: KeyLookup;
  tokenCache: TokenCache;
  metrics: Metrics;
  logger: Logger;
  /** defaults to denials only, on `logger` */
  decisionLog?: DecisionLog;
  options: DecideOptions & { reservedHeaderPrefix: string };
  now?: () => number;
  /** the listener this handler answers for, as the metrics' `protocol` label; default grpc */
  protocol?: Protocol;
  /** whole answers by a key the listener computes (the HTTP listener: http-authz/answer-key.ts) */
  answerCache?: AnswerCache;
  /** DPoP nonces and replay store; default: this process's own */
  sender?: SenderContext;
  /** identity.token: the minter of --identity-key-dir; without it such policies answer 503 */
  identityTokens?: IdentityTokenSource;
}

export interface CheckHandler {
  /** `cacheKey`: remember the answer under it, when it may be (pipeline/answer-cache.ts) */
  (req: AuthRequest, cacheKey?: AnswerKey): MaybePromise<ResponsePlan>;
  /** The answer remembered under `key`, counted and logged as the Check it answers; `requestOf` only for the decision log. */
  cached(key: AnswerKey, requestOf: () => AuthRequest): CachedAnswer | undefined;
}

export function createCheckHandler(deps: CheckHandlerDeps): CheckHandler {
  const now = deps.now ?? Date.now;
  const decisionLog = deps.decisionLog ?? createDecisionLog(deps.logger);
  const protocol = deps.protocol ?? 'grpc';
  const sender = deps.sender ?? defaultSenderContext();
  const durationKey = { allow: BatchedHistogram.key('allow', protocol), deny: BatchedHistogram.key('deny', protocol), audit_deny: BatchedHistogram.key('audit_deny', protocol) };

  // Any error is a 503 deny (fail closed), never a thrown gRPC error.
  const failed = (req: AuthRequest, err: unknown, decision: Decision | undefined): ResponsePlan => {
    deps.logger.error({ err: errSummary(err), requestId: req.requestId }, 'check failed; denying with 503');
    deps.metrics.countCheck('deny', 'internal_error', decision?.policy?.key ?? '', protocol);
    const plan = internalErrorPlan(req.requestId, normalizeHost(req.host));
    decisionLog.record(req, { label: 'deny', reason: 'internal_error', status: 503 });
    return plan;
  };

  // The realm (normalised host) is computed only when denying.
  const answer = (req: AuthRequest, started: bigint, snapshot: Snapshot, decided: Decision, cacheKey?: AnswerKey): ResponsePlan => {
    let plan: ResponsePlan;
    let decision = decided;
    try {
      const minted = decision.allow ? identityTokenFor(decision, req, deps.identityTokens, now() / 1000) : undefined;
      if (minted && 'allow' in minted) decision = minted;
      const identityToken = minted && !('allow' in minted) ? minted : undefined;
      plan = decision.allow
        ? buildAllowPlan(decision, { snapshot, headers: req.headers, reservedPrefix: deps.options.reservedHeaderPrefix, ...(identityToken ? { identityToken } : {}) })
        : buildDenyPlan(decision, { host: decision.host ?? normalizeHost(req.host), requestId: req.requestId });
    } catch (err) {
      return failed(req, err, decision);
    }
    const label = decision.allow ? (decision.auditedDeny ? 'audit_deny' : 'allow') : 'deny';
    // audit_deny is counted under the reason enforce mode would have denied with
    const reason = decision.allow && decision.auditedDeny ? decision.auditedDeny.reason : decision.reason;
    deps.metrics.countCheck(label, reason, decision.policy?.key ?? '', protocol);
    deps.metrics.checkDuration.observe(durationKey[label], Number(process.hrtime.bigint() - started) / 1e9);
    decisionLog.record(req, { label, reason, decision, ...(plan.kind === 'denied' ? { status: plan.httpStatus } : {}) });
    if (cacheKey !== undefined && plan.kind === 'ok') deps.answerCache?.remember(cacheKey, snapshot, deps.keys, decision, plan);
    return plan;
  };

  const cached = (key: AnswerKey, requestOf: () => AuthRequest): CachedAnswer | undefined => {
    const started = process.hrtime.bigint();
    const snapshot = deps.getSnapshot();
    if (!deps.answerCache || !snapshot) return undefined;
    const entry = deps.answerCache.get(key, snapshot, deps.keys, now() / 1000);
    deps.metrics.countAnswerCacheLookup(entry ? 'hit' : 'miss');
    if (!entry) return undefined;
    const d = entry.decision;
    deps.metrics.countCheckAs((entry.counted ??= Metrics.checkLabels('allow', d.reason, d.policy?.key ?? '', protocol)));
    deps.metrics.checkDuration.observe(durationKey.allow, Number(process.hrtime.bigint() - started) / 1e9);
    if (decisionLog.logsAllows) decisionLog.record(requestOf(), { label: 'allow', reason: d.reason, decision: d });
    return entry;
  };

  const check = (req: AuthRequest, cacheKey?: AnswerKey): MaybePromise<ResponsePlan> => {
    const started = process.hrtime.bigint();
    try {
      const snapshot = deps.getSnapshot();
      if (!snapshot) {
        const plan = internalErrorPlan(req.requestId, normalizeHost(req.host), 'service not ready');
        deps.metrics.countCheck('deny', 'not_ready', '', protocol);
        decisionLog.record(req, { label: 'deny', reason: 'not_ready', status: 503 });
        return plan;
      }
      const decision = decideRequest(req, { snapshot, keys: deps.keys, tokenCache: deps.tokenCache, nowSec: now() / 1000, options: deps.options, sender });
      // only a decision made in this tick is remembered: one that waited may have seen keys change
      if (!isPromise(decision)) return answer(req, started, snapshot, decision, cacheKey);
      return decision.then(
        (d) => answer(req, started, snapshot, d),
        (err: unknown) => failed(req, err, undefined),
      );
    } catch (err) {
      return failed(req, err, undefined);
    }
  };
  return Object.assign(check, { cached });
}

function errSummary(err: unknown): { type: string; message: string; code?: string } {
  if (err instanceof Error) return { type: err.name, message: err.message.slice(0, 200), code: (err as { code?: string }).code };
  return { type: typeof err, message: 'non-error thrown' };
}
