/**
 * The request path: policy → path → rule → credential → verify → revocation → scopes → claims → condition (CEL).
 * Pure over its inputs; every outcome is a Decision value.
 */
import type { AuthRequest } from '../request.js';
import type { CompiledIssuer, CompiledPolicy, CompiledRule, Snapshot } from '../compile/snapshot.js';
import type { Allow, Decision, Deny, DpopChallenge, Finding, Step, Verified } from '../decision.js';
import { descriptionOf, kindOf, type DenyReason } from '../reasons.js';
import type { KeyLookup } from '../authn/types.js';
import { normalizePath } from '../authz/normalize-path.js';
import { findRule } from '../authz/match-rule.js';
import { checkScopes } from '../authz/scopes.js';
import { checkClaims } from '../authz/check-claims.js';
import { checkCondition } from '../authz/cel/check-condition.js';
import { extractCredential } from '../authn/extract-credential.js';
import type { TokenCache } from '../authn/token-cache.js';
import { checkRevocation, type VerifyOutcome } from '../authn/check-revocation.js';
import { selectPolicy, POLICY_EXTENSION } from '../authz/select-policy.js';
import type { Credential } from '../authn/types.js';
import { then, type MaybePromise } from '../maybe-async.js';
import { checkSender, defaultSenderContext, type SenderContext } from './check-sender.js';

export { POLICY_EXTENSION };

export interface DecideOptions {
  unmatchedHost: 'deny' | 'allow';
  maxTokenBytes: number;
}

export interface DecideContext {
  snapshot: Snapshot;
  keys: KeyLookup;
  /** verified-token cache; one of size 0 verifies every token */
  tokenCache: TokenCache;
  nowSec: number;
  options: DecideOptions;
  /**
   * Record the explanation (`Decision.steps`), for `claimcheck check` and tests. Off on the
   * serving path: the steps are template strings built per request that nothing there reads.
   */
  explain?: boolean;
  /** DPoP nonces and the replay store; default: this process's own (a random nonce secret, memory) */
  sender?: SenderContext;
}

/** undefined when not explaining: `steps?.push(...)` then skips building the step. */
type Steps = Step[] | undefined;

const NO_STEPS: Step[] = Object.freeze([]) as unknown as Step[];

/** Kind and description come from the one table of reasons (src/reasons.ts). */
function deny(reason: DenyReason, steps: Steps, extra: Partial<Deny> = {}): Deny {
  return { allow: false, kind: kindOf(reason), reason, description: descriptionOf(reason), steps: steps ?? NO_STEPS, ...extra };
}

export function decideRequest(req: AuthRequest, ctx: DecideContext): MaybePromise<Decision> {
  const steps: Steps = ctx.explain ? [] : undefined;
  const { selection, host } = selectPolicy(req, ctx.snapshot, steps);
  if (selection.kind === 'missing-named') return deny('policy_not_found', steps, { host });
  // Never "no policy": --unmatched-host allow would let it through, while Envoy's own
  // domain matching may still route such a host to a protected upstream.
  if (selection.kind === 'invalid-host') return deny('invalid_host', steps, { host });
  if (selection.kind === 'none') {
    if (ctx.options.unmatchedHost === 'allow') return { allow: true, reason: 'unmatched_host', host, steps: steps ?? NO_STEPS };
    return deny('no_policy', steps, { host });
  }
  const policy = selection.policy;
  const decision = decideWithPolicy(req, policy, host, ctx, steps);
  if (policy.mode !== 'audit') return decision;
  return then(decision, (d) => (d.allow ? d : auditAllow(req, policy, d, ctx, steps)));
}

/**
 * Audit mode never denies (docs/configuration.md `mode: audit`), not even a malformed path or two
 * credentials: turning audit on must not change what reaches the upstream. The
 * would-deny is kept for the decision log and metrics. A valid token still yields
 * identity headers — when the denial came before verification (no rule, deny
 * rule, bad path), the token is verified against the rule's or the policy's issuers.
 */
async function auditAllow(req: AuthRequest, policy: CompiledPolicy, denied: Deny, ctx: DecideContext, steps: Steps): Promise<Allow> {
  // extracted already unless the denial came before the credential (path, rule)
  const cred = denied.credential ?? extractCredential(req.headers, req.path, policy.tokenSources);
  let verified = denied.verified;
  // verified and refused (a sender-constrained token without its proof among them): no identity
  const attempted = denied.kind === 'invalid_token' || denied.kind === 'invalid_dpop_proof' || denied.kind === 'use_dpop_nonce' || denied.kind === 'temporarily_unavailable' || denied.reason === 'dpop_proof_multiple';
  if (!verified && !attempted && cred.kind === 'token') {
    const issuers = denied.rule?.issuers.length ? denied.rule.issuers : (policy.issuers ?? []);
    if (issuers.length > 0) {
      const v = await verifyAndCheckRevocation(cred.token, issuers, ctx, steps);
      if (v.ok) verified = v.verified;
    }
  }
  steps?.push({ step: 'audit', ok: true, detail: `policy is in audit mode: would deny (${denied.reason}), allowing` });
  const allow: Allow = { allow: true, reason: 'audit_deny', host: denied.host, policy, steps: steps ?? NO_STEPS, auditedDeny: denied };
  if (denied.rule) allow.rule = denied.rule;
  if (verified) allow.verified = verified;
  if (cred.kind === 'token') allow.credentialSource = cred.source;
  return allow;
}

function decideWithPolicy(req: AuthRequest, policy: CompiledPolicy, host: string, ctx: DecideContext, steps: Steps): MaybePromise<Decision> {
  const base = { policy, host };
  const np = normalizePath(req.path);
  if (!np.ok) {
    steps?.push({ step: 'path', ok: false, detail: `rejected: ${np.reason}` });
    return deny(np.reason, steps, base);
  }
  const method = req.method.toUpperCase();
  const rule = findRule(policy, method, np.path);
  steps?.push({ step: 'rule', ok: !!rule, detail: rule ? `${rule.name} (#${rule.index}) for ${method} ${np.path}` : `no rule matches ${method} ${np.path}` });
  if (!rule) return deny('no_rule', steps, base);
  const withRule = { policy, rule, host };
  if (rule.action === 'deny') return deny('rule_denies', steps, withRule);

  const cred: Credential = extractCredential(req.headers, req.path, policy.tokenSources);
  const withCredential = { ...withRule, credential: cred };
  if (cred.kind === 'conflict') {
    steps?.push({ step: 'credential', ok: false, detail: cred.description });
    return deny('multiple_credentials', steps, withRule);
  }
  steps?.push({ step: 'credential', ok: cred.kind === 'token', detail: cred.kind === 'token' ? `token from ${cred.source.type} ${cred.source.name}` : 'no token' });
  const credentialSource = cred.kind === 'token' ? cred.source : undefined;

  if (rule.action === 'allowAnonymous') {
    if (cred.kind !== 'token' || rule.issuers.length === 0) return { allow: true, reason: 'anonymous', ...withRule, steps: steps ?? NO_STEPS };
    return then(authenticate(req, cred, rule, np.path, ctx, steps), (v): Decision =>
      // Like Envoy's allow_missing_or_failed: an invalid token on an anonymous rule is ignored.
      v.ok ? { allow: true, reason: 'allowed', ...withRule, verified: v.verified, credentialSource, steps: steps ?? NO_STEPS } : { allow: true, reason: 'anonymous', ...withRule, steps: steps ?? NO_STEPS },
    );
  }

  if (cred.kind !== 'token') return deny('missing_token', steps, withCredential);
  return then(authenticate(req, cred, rule, np.path, ctx, steps), (v): Decision => {
    if (!v.ok) return deny(v.reason, steps, v.dpop ? { ...withCredential, dpop: v.dpop } : v.findings ? { ...withCredential, findings: v.findings } : withCredential);
    const verified = v.verified;
    if (rule.scopes) {
      const s = checkScopes(verified.claims, rule.scopes);
      steps?.push({ step: 'scopes', ok: s.ok, detail: s.ok ? 'required scopes present' : `missing scope; needs ${s.needed.join(' ')}` });
      if (!s.ok) return deny('insufficient_scope', steps, { ...withCredential, verified, scope: s.needed });
    }
    if (rule.claims.length > 0) {
      const c = checkClaims(verified.claims, rule.claims);
      steps?.push({ step: 'claims', ok: c.ok, detail: c.ok ? `${rule.claims.length} claim requirement(s) met` : `failed: ${c.failed.description}` });
      if (!c.ok) return deny('claim_mismatch', steps, { ...withCredential, verified });
    }
    if (rule.condition) {
      const input = { claims: verified.claims, method, host, path: np.path, rawPath: req.path, headers: req.headers, source: req.source, destination: req.destination, nowSec: ctx.nowSec };
      const c = checkCondition(rule.condition, input);
      steps?.push({ step: 'condition', ok: c.ok, detail: c.detail });
      if (!c.ok) return deny(c.reason, steps, { ...withCredential, verified });
    }
    return { allow: true, reason: 'allowed', policy, rule, host, verified, credentialSource, steps: steps ?? NO_STEPS };
  });
}

type Authenticated = { ok: true; verified: Verified } | { ok: false; reason: DenyReason; dpop?: DpopChallenge; findings?: readonly Finding[] };

/** The token verified, not revoked, and presented as its binding says (check-sender.ts). */
function authenticate(req: AuthRequest, cred: Extract<Credential, { kind: 'token' }>, rule: CompiledRule, path: string, ctx: DecideContext, steps: Steps): MaybePromise<Authenticated> {
  return then(verifyAndCheckRevocation(cred.token, rule.issuers, ctx, steps), (v): MaybePromise<Authenticated> => {
    if (!v.ok) return v;
    return then(checkSender(req, cred, v.verified, rule.senderConstraint, path, ctx.nowSec, ctx.sender ?? defaultSenderContext()), (s): Authenticated => {
      steps?.push({ step: 'sender', ok: s.ok, detail: s.ok ? 'sender constraint met' : `refused: ${s.reason}` });
      return s.ok ? v : s;
    });
  });
}

function verifyAndCheckRevocation(token: string, issuers: readonly CompiledIssuer[], ctx: DecideContext, steps: Steps): MaybePromise<VerifyOutcome> {
  const r = ctx.tokenCache.verify(token, issuers, ctx.keys, { nowSec: ctx.nowSec, maxTokenBytes: ctx.options.maxTokenBytes });
  return then(r, (result) => checkRevocation(result, ctx.snapshot.revocations, ctx.nowSec, steps));
}
