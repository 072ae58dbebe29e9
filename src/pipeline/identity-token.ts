/**
 * The identity token of an allowed request (docs/identity-tokens.md): minted after the
 * decision, for a verified token on a policy with identity.token. No usable signing key is a
 * 503 in enforce mode; in audit mode the request goes through without the token (its header
 * is still removed, like every identity header that is not set).
 */
import type { Allow, Deny, Verified } from '../decision.js';
import type { CompiledIdentityToken } from '../compile/snapshot.js';
import type { AuthRequest } from '../request.js';
import { descriptionOf, kindOf } from '../reasons.js';
import { normalizeHost } from '../authz/normalize-host.js';

export interface IdentityTokenSource {
  mint(m: { policyKey: string; token: CompiledIdentityToken; verified: Verified; host: string; actor: string; nowSec: number }): string | undefined;
}

export type IdentityTokenOutcome = { name: string; value: string } | Deny | undefined;

export function identityTokenFor(a: Allow, req: AuthRequest, source: IdentityTokenSource | undefined, nowSec: number): IdentityTokenOutcome {
  const token = a.policy?.identity.token;
  if (!token || !a.verified) return undefined;
  const host = a.host ?? normalizeHost(req.host);
  const jwt = source?.mint({ policyKey: a.policy!.key, token, verified: a.verified, host, actor: req.source.principal, nowSec });
  if (jwt !== undefined) return { name: token.header, value: token.prefix + jwt };
  if (a.policy!.mode === 'audit') return undefined;
  const reason = 'identity_token_unavailable';
  return { allow: false, kind: kindOf(reason), reason, description: descriptionOf(reason), host, policy: a.policy!, ...(a.rule ? { rule: a.rule } : {}), steps: a.steps };
}
