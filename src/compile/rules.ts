import { compileClaimCheck } from '../authz/claims.js';
import { compileRuleMatcher } from '../authz/match-rule.js';
import { compilePathGlob } from '../authz/path-glob.js';
import { compileCondition } from '../authz/cel/compile-condition.js';
import type { CompiledCondition } from '../authz/cel/types.js';
import { ClaimcheckError } from '../errors.js';
import type { AuthPolicy, RuleSpec } from '../model/types.js';
import type { CompileContext } from './context.js';
import { withFapi2Required } from './fapi2-profile.js';
import { checkSenderConstraint, compileSenderConstraint } from './sender-constraint.js';
import type { IssuerScope } from './issuer-scope.js';
import type { CompiledClaimCheck, CompiledIssuer, CompiledRule, CompiledScopes } from './snapshot.js';

/** Resolve issuer names for `r`; unresolved names are problems at `path`. */
export function resolveIssuers(names: readonly string[], r: AuthPolicy, path: string, scope: IssuerScope, ctx: CompileContext): CompiledIssuer[] {
  const out: CompiledIssuer[] = [];
  const ns = ctx.namespaceOf(r);
  names.forEach((name, i) => {
    const res = scope.resolve(name, ns);
    if (!res.found) {
      const where = ns === ctx.namespace ? `namespace ${ns}` : `namespace ${ns} or ${ctx.namespace}`;
      ctx.problem(r, `${path}/${i}`, `TrustedIssuer ${JSON.stringify(name)} not found in ${where}`);
    } else if (!res.issuer) {
      // an issuer with problems of its own: in one compile those block the snapshot; under
      // per-resource acceptance the issuer is refused and this reference denies its tokens
      ctx.warning(r, `${path}/${i}`, `TrustedIssuer ${JSON.stringify(name)} is not accepted: tokens it issued are denied`);
    } else if (!out.includes(res.issuer)) {
      out.push(res.issuer);
    }
  });
  return out;
}

export function compileRule(
  r: AuthPolicy,
  rule: RuleSpec,
  index: number,
  policyIssuers: readonly CompiledIssuer[],
  scope: IssuerScope,
  ctx: CompileContext,
): CompiledRule | undefined {
  const before = ctx.problems.length;
  const base = `/spec/rules/${index}`;
  const action = rule.action ?? 'require';
  const req = rule.require;

  (rule.match?.paths ?? []).forEach((p, i) => {
    try {
      compilePathGlob(p);
    } catch (err) {
      ctx.problem(r, `${base}/match/paths/${i}`, messageOf(err));
    }
  });

  if (action === 'deny' && req) ctx.problem(r, `${base}/require`, 'a deny rule takes no require');
  if (action === 'allowAnonymous' && req && (req.scopes || req.claims || req.when)) {
    // an anonymous request passes without a token, so requirements here would never hold back anyone
    ctx.problem(r, `${base}/require`, 'an allowAnonymous rule cannot require scopes, claims or conditions (only issuers)');
  }
  let condition: CompiledCondition | undefined;
  if (req?.when !== undefined) {
    const when = req.when;
    const c = ctx.share('condition', when, () => compileCondition(when, ctx.celCostLimit));
    if (c.ok) condition = c.condition;
    else ctx.problem(r, `${base}/require/when`, c.message);
  }

  const resolved = req?.issuers ? resolveIssuers(req.issuers, r, `${base}/require/issuers`, scope, ctx) : policyIssuers;
  // Rules with the same issuers share one frozen array (the token cache compares it by identity).
  const issuers = ctx.share('issuers', resolved.map((i) => i.key), () => Object.freeze([...resolved]));
  // an opaque token says nothing about who issued it: it may go to one endpoint only
  const introspecting = [...new Set(resolved.filter((i) => i.introspection).map((i) => i.key))];
  if (introspecting.length > 1) ctx.problem(r, base, `rule ${JSON.stringify(rule.name)} names ${introspecting.length} issuers with introspection (${introspecting.join(', ')}); an opaque token is sent to at most one, so name one per rule`);
  const named = req?.issuers ?? r.spec.issuers ?? [];
  if (action === 'require' && named.length === 0) {
    ctx.problem(r, base, `rule ${JSON.stringify(rule.name)} requires a token but names no issuers: set spec.issuers or require.issuers`);
  }

  const claims: CompiledClaimCheck[] = [];
  (req?.claims ?? []).forEach((c, i) => {
    try {
      claims.push(ctx.share('claim', c, () => compileClaimCheck(c)));
    } catch (err) {
      ctx.problem(r, `${base}/require/claims/${i}`, messageOf(err));
    }
  });
  let scopes: CompiledScopes | undefined;
  if (req?.scopes && ((req.scopes.allOf?.length ?? 0) > 0 || (req.scopes.anyOf?.length ?? 0) > 0)) {
    const spec = req.scopes;
    scopes = ctx.share('scopes', spec, () => Object.freeze({ allOf: Object.freeze([...(spec.allOf ?? [])]), anyOf: Object.freeze([...(spec.anyOf ?? [])]) }));
  }

  checkSenderConstraint(r, req?.senderConstraint, `${base}/require/senderConstraint`, ctx);

  if (ctx.problems.length > before) return undefined;
  const policyConstraint = r.spec.profile === 'fapi2' ? withFapi2Required(r.spec.senderConstraint) : r.spec.senderConstraint;
  const matches = ctx.share('match', rule.match ?? null, () => compileRuleMatcher(rule.match));
  const compiled: CompiledRule = {
    name: rule.name,
    index,
    action,
    matches,
    issuers,
    claims: ctx.share('claims', req?.claims ?? [], () => Object.freeze(claims)),
    ...(scopes ? { scopes } : {}),
    ...(condition ? { when: condition.expression, condition } : {}),
    senderConstraint: compileSenderConstraint(policyConstraint, req?.senderConstraint, ctx),
  };
  return Object.freeze(compiled);
}

function messageOf(err: unknown): string {
  if (err instanceof ClaimcheckError) return err.message;
  return `invalid: ${(err as Error)?.message ?? String(err)}`;
}
