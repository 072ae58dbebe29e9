import type { TokenRevocation } from '../model/types.js';
import type { CompileContext } from './context.js';
import type { IssuerScope } from './issuer-scope.js';
import type { RevocationIndex } from './snapshot.js';

interface RevocationEntry {
  jtis: ReadonlySet<string>;
  /** subject -> issuedBefore in seconds (the latest instant when listed twice) */
  subjects: ReadonlyMap<string, number>;
  expiresAtSec: number;
}

export function compileRevocations(resources: readonly TokenRevocation[], scope: IssuerScope, ctx: CompileContext): RevocationIndex {
  const byIssuer = new Map<string, RevocationEntry[]>();
  for (const r of resources) {
    const res = scope.resolve(r.spec.issuer, ctx.namespaceOf(r));
    if (!res.found) {
      ctx.problem(r, '/spec/issuer', `TrustedIssuer ${JSON.stringify(r.spec.issuer)} not found in namespace ${ctx.namespaceOf(r)}${ctx.namespaceOf(r) === ctx.namespace ? '' : ` or ${ctx.namespace}`}`);
      continue;
    }
    const expiresAtSec = r.spec.expiresAt ? Date.parse(r.spec.expiresAt) / 1000 : Number.POSITIVE_INFINITY;
    if (expiresAtSec * 1000 <= ctx.nowMs) ctx.warning(r, '/spec/expiresAt', 'Expired: this revocation is ignored');
    const subjects = new Map<string, number>();
    for (const s of r.spec.subjects ?? []) {
      const t = Date.parse(s.issuedBefore) / 1000;
      subjects.set(s.subject, Math.max(t, subjects.get(s.subject) ?? Number.NEGATIVE_INFINITY));
    }
    const jtis = new Set(r.spec.jtis ?? []);
    if (jtis.size === 0 && subjects.size === 0) ctx.warning(r, '/spec', 'revokes nothing: no jtis and no subjects');
    const list = byIssuer.get(res.key) ?? [];
    list.push({ jtis, subjects, expiresAtSec });
    byIssuer.set(res.key, list);
  }
  return Object.freeze({
    isRevoked(issuerKey: string, claims: Record<string, unknown>, nowSec: number): boolean {
      const list = byIssuer.get(issuerKey);
      if (!list) return false;
      const { jti, sub, iat } = claims;
      for (const e of list) {
        if (nowSec >= e.expiresAtSec) continue;
        if (typeof jti === 'string' && e.jtis.has(jti)) return true;
        if (typeof sub === 'string') {
          const before = e.subjects.get(sub);
          // without a usable iat the token cannot prove it was issued after the cut-off
          if (before !== undefined && (typeof iat !== 'number' || !Number.isFinite(iat) || iat < before)) return true;
        }
      }
      return false;
    },
  });
}
