/**
 * `profile: fapi2`: the FAPI 2.0 Security Profile's resource-server rules (§5.3.4) and algorithm
 * rules (§5.4.1) as validation errors, so a policy that claims the profile cannot quietly miss
 * one. docs/fapi2.md maps every requirement to the check that enforces it.
 */
import type { AuthPolicy, SenderConstraintSpec } from '../model/types.js';
import type { CompileContext } from './context.js';
import type { IssuerScope } from './issuer-scope.js';

/** FAPI 2.0 §5.4.1 item 1.2: PS256, ES256, or EdDSA with Ed25519 (`Ed25519` is that variant's own name, RFC 9864). */
const FAPI2_ALGORITHMS: ReadonlySet<string> = new Set(['PS256', 'ES256', 'EdDSA', 'Ed25519']);
const FAPI2_PROOF_ALGORITHMS: ReadonlySet<string> = new Set(['PS256', 'ES256', 'EdDSA']);
const MAX_CLOCK_SKEW_SEC = 10;

export function checkFapi2Profile(r: AuthPolicy, scope: IssuerScope, ctx: CompileContext): void {
  (r.spec.tokenSources ?? []).forEach((s, i) => {
    if (!('header' in s) || s.header.toLowerCase() !== 'authorization') {
      ctx.problem(r, `/spec/tokenSources/${i}`, 'profile fapi2 takes tokens from the Authorization header only (FAPI 2.0 §5.3.4 items 1 and 2)');
    }
  });
  checkConstraint(r, r.spec.senderConstraint, '/spec/senderConstraint', ctx);
  checkIssuers(r, r.spec.issuers ?? [], '/spec/issuers', scope, ctx);
  r.spec.rules.forEach((rule, i) => {
    const base = `/spec/rules/${i}`;
    checkConstraint(r, rule.require?.senderConstraint, `${base}/require/senderConstraint`, ctx);
    if (rule.require?.issuers) checkIssuers(r, rule.require.issuers, `${base}/require/issuers`, scope, ctx);
    if (rule.action === 'allowAnonymous') {
      ctx.warning(r, base, `rule ${JSON.stringify(rule.name)} lets requests through without an access token, outside profile fapi2`);
    }
  });
}

/** The profile turns `required` on; the policy and its rules may not turn it off. */
export function withFapi2Required(spec: SenderConstraintSpec | undefined): SenderConstraintSpec {
  return { ...spec, required: true };
}

function checkConstraint(r: AuthPolicy, spec: SenderConstraintSpec | undefined, path: string, ctx: CompileContext): void {
  if (spec?.required === false) {
    ctx.problem(r, `${path}/required`, 'profile fapi2 requires sender-constrained tokens (FAPI 2.0 §5.3.4 item 5): required cannot be false');
  }
  const bad = (spec?.dpop?.algorithms ?? []).filter((a) => !FAPI2_PROOF_ALGORITHMS.has(a));
  if (bad.length > 0) {
    ctx.problem(r, `${path}/dpop/algorithms`, `profile fapi2 allows only PS256, ES256 and EdDSA proofs (FAPI 2.0 §5.4.1), not ${bad.join(', ')}`);
  }
}

function checkIssuers(r: AuthPolicy, names: readonly string[], path: string, scope: IssuerScope, ctx: CompileContext): void {
  const ns = ctx.namespaceOf(r);
  names.forEach((name, i) => {
    const res = scope.resolve(name, ns);
    // an unknown or refused issuer is reported by resolveIssuers already
    if (!res.found || !res.issuer) return;
    const bad = res.issuer.algorithms.filter((a) => !FAPI2_ALGORITHMS.has(a));
    if (bad.length > 0) {
      ctx.problem(r, `${path}/${i}`, `TrustedIssuer ${JSON.stringify(name)} allows ${bad.join(', ')}: profile fapi2 allows only PS256, ES256 and EdDSA (FAPI 2.0 §5.4.1); set its algorithms`);
    }
    if (res.issuer.clockSkewSec > MAX_CLOCK_SKEW_SEC) {
      ctx.problem(r, `${path}/${i}`, `TrustedIssuer ${JSON.stringify(name)} has a clockSkew of ${res.issuer.clockSkewSec}s: profile fapi2 allows at most 10s; set its clockSkew`);
    }
    if (res.issuer.jwks.allowInsecureHttp) {
      ctx.problem(r, `${path}/${i}`, `TrustedIssuer ${JSON.stringify(name)} allows keys over plain http: profile fapi2 needs TLS (FAPI 2.0 §5.2.1, §5.4.2)`);
    }
  });
}
