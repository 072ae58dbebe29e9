import { domainToASCII } from 'node:url';
import { normalizeHost } from '../authz/normalize-host.js';
import type { AuthPolicy } from '../model/types.js';
import type { CompileContext } from './context.js';
import { compileIdentity, compileTokenSources } from './identity.js';
import type { IssuerScope } from './issuer-scope.js';
import { compileRule, resolveIssuers } from './rules.js';
import { checkFapi2Profile } from './fapi2-profile.js';
import { checkSenderConstraint } from './sender-constraint.js';
import type { CompiledPolicy, CompiledRule } from './snapshot.js';

/**
 * Normalise a spec host: exact (`Example.COM:443` → `example.com`) or `*.suffix`;
 * undefined if invalid. An internationalised name becomes its IDNA (punycode) form,
 * which is what clients send as the Host (requests are matched in ASCII only).
 */
export function normalizeHostPattern(host: string): string | undefined {
  if (host.startsWith('*.')) {
    const suffix = normalizeHost(toAscii(host.slice(2)));
    if (!suffix || suffix.includes('*') || suffix.startsWith('.')) return undefined;
    return `*.${suffix}`;
  }
  const h = normalizeHost(toAscii(host));
  if (!h || h.includes('*') || /[\s/?#@]/.test(h)) return undefined;
  return h;
}

function toAscii(host: string): string {
  // domainToASCII answers '' for what it cannot convert, which then matches nothing
  return /[^\x00-\x7f]/.test(host) ? domainToASCII(host) : host;
}

export function compilePolicy(r: AuthPolicy, scope: IssuerScope, ctx: CompileContext): CompiledPolicy | undefined {
  const before = ctx.problems.length;
  const ns = ctx.namespaceOf(r);
  const hosts: string[] = [];
  (r.spec.hosts ?? []).forEach((h, i) => {
    const n = normalizeHostPattern(h);
    if (n === undefined) {
      ctx.problem(r, `/spec/hosts/${i}`, `${JSON.stringify(h)} is not a host name or a "*.domain" wildcard`);
    } else if (!hosts.includes(n)) {
      hosts.push(n);
    }
  });

  const issuers = resolveIssuers(r.spec.issuers ?? [], r, '/spec/issuers', scope, ctx);
  checkSenderConstraint(r, r.spec.senderConstraint, '/spec/senderConstraint', ctx);
  if (r.spec.profile === 'fapi2') checkFapi2Profile(r, scope, ctx);
  const names = new Set<string>();
  const rules: CompiledRule[] = [];
  r.spec.rules.forEach((rule, i) => {
    if (names.has(rule.name)) ctx.problem(r, `/spec/rules/${i}/name`, `rule name ${JSON.stringify(rule.name)} is used twice`);
    names.add(rule.name);
    const c = compileRule(r, rule, i, issuers, scope, ctx);
    if (c) rules.push(c);
  });
  if (r.spec.rules.length === 0) ctx.warning(r, '/spec/rules', 'no rules: every request for this policy is denied');

  const tokenSources = ctx.share('tokenSources', r.spec.tokenSources ?? null, () => compileTokenSources(r, ctx));
  const identity = ctx.share('identity', r.spec.identity ?? null, () => compileIdentity(r, ctx));
  if (ctx.problems.length > before) return undefined;
  return Object.freeze({
    key: `${ns}/${r.metadata.name}`,
    name: r.metadata.name,
    namespace: ns,
    mode: r.spec.mode ?? 'enforce',
    hosts: Object.freeze(hosts),
    tokenSources,
    issuers: Object.freeze(issuers),
    rules: Object.freeze(rules),
    identity,
  });
}
