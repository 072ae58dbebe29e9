import { CEL_COST_LIMIT } from '../authz/cel/cost-model.js';
import type { ConfigProblem } from '../errors.js';
import type { AnyResource, AuthPolicy, TokenRevocation, TrustedIssuer } from '../model/types.js';
import { CompileContext } from './context.js';
import { buildHostIndex, type PolicyEntry } from './host-index.js';
import { IssuerScope } from './issuer-scope.js';
import { compileIssuer } from './issuers.js';
import { compilePolicy } from './policies.js';
import { compileRevocations } from './revocations.js';
import type { CompiledPolicy, Snapshot } from './snapshot.js';

/** What the server's flags decide about compiling, the same for the file and Kubernetes sources and the offline commands. */
export interface CompileSettings {
  /** --identity-issuer; null: none, so policies with identity.token are refused; undefined: not checked */
  identityIssuer?: string | null;
  /** --cel-cost-limit; default CEL_COST_LIMIT */
  celCostLimit?: number;
}

export interface CompileOptions extends CompileSettings {
  /** claimcheck's own namespace: the default namespace and the mesh-wide issuer namespace */
  namespace: string;
  generation: number;
  nowMs?: number;
  /**
   * namespace/name of issuers refused by per-resource acceptance: names that resolve
   * (so that policies and revocations naming them load) to no keys, so that their
   * tokens are denied
   */
  refusedIssuers?: ReadonlySet<string>;
}

export interface CompileResult {
  /** undefined when there is any problem: the caller keeps its last good snapshot */
  snapshot?: Snapshot;
  problems: ConfigProblem[];
  warnings: ConfigProblem[];
}

/** Resources → immutable Snapshot. Pure: no I/O, no clock except `nowMs` (for expired revocations). */
export function compileSnapshot(resources: readonly AnyResource[], opts: CompileOptions): CompileResult {
  const ctx = new CompileContext(opts.namespace, opts.nowMs ?? Date.now(), opts.identityIssuer, opts.celCostLimit ?? CEL_COST_LIMIT);
  const issuers: TrustedIssuer[] = [];
  const policies: AuthPolicy[] = [];
  const revocations: TokenRevocation[] = [];
  const seen = new Map<string, AnyResource>();
  for (const r of resources) {
    const id = `${r.kind} ${ctx.keyOf(r)}`;
    const first = seen.get(id);
    if (first) {
      const where = first.origin ? ` (first defined in ${first.origin.file}:${first.origin.line})` : '';
      ctx.problem(r, '/metadata/name', `duplicate ${r.kind} ${ctx.keyOf(r)}${where}`);
      continue;
    }
    seen.set(id, r);
    if (r.kind === 'TrustedIssuer') issuers.push(r);
    else if (r.kind === 'AuthPolicy') policies.push(r);
    else if (r.kind === 'TokenRevocation') revocations.push(r);
  }

  const scope = new IssuerScope(opts.namespace);
  for (const key of opts.refusedIssuers ?? []) scope.declare(key, undefined);
  for (const r of issuers) scope.declare(ctx.keyOf(r), compileIssuer(r, ctx));

  const entries: PolicyEntry[] = [];
  for (const r of policies) {
    const policy = compilePolicy(r, scope, ctx);
    if (policy) entries.push({ policy, resource: r });
  }
  const emittedHeaders = collectEmittedHeaders(entries, ctx);
  const policyForHost = buildHostIndex(entries, ctx);
  const revocationIndex = compileRevocations(revocations, scope, ctx);

  if (ctx.problems.length > 0) return { problems: ctx.problems, warnings: ctx.warnings };
  const snapshot: Snapshot = Object.freeze({
    generation: opts.generation,
    policies: new Map<string, CompiledPolicy>(entries.map((e) => [e.policy.key, e.policy])),
    issuers: new Map(scope.issuers),
    policyForHost,
    emittedHeaders,
    credentialHeaders: collectCredentialHeaders(entries),
    queryTokens: entries.some(({ policy }) => policy.tokenSources.some((s) => s.type === 'query')),
    revocations: revocationIndex,
  });
  return { snapshot, problems: ctx.problems, warnings: ctx.warnings };
}

function collectCredentialHeaders(entries: readonly PolicyEntry[]): ReadonlySet<string> {
  const names = new Set<string>();
  for (const { policy } of entries) {
    for (const s of policy.tokenSources) {
      if (s.type === 'header') names.add(s.header.toLowerCase());
      else if (s.type === 'cookie') names.add('cookie');
    }
  }
  return names;
}

/**
 * Every header any policy can emit is stripped from every allowed request, so a policy
 * emitting a header another policy reads its token from would break that policy.
 */
function collectEmittedHeaders(entries: readonly PolicyEntry[], ctx: CompileContext): ReadonlySet<string> {
  const emitted = new Set<string>();
  for (const { policy } of entries) {
    for (const h of policy.identity.headers) emitted.add(h.name);
    if (policy.identity.payloadHeader) emitted.add(policy.identity.payloadHeader);
    if (policy.identity.token) emitted.add(policy.identity.token.header);
  }
  for (const { policy, resource } of entries) {
    policy.tokenSources.forEach((s, i) => {
      if (s.type === 'header' && emitted.has(s.header)) {
        ctx.problem(resource, `/spec/tokenSources/${i}/header`, `${JSON.stringify(s.header)} is an identity header of a loaded policy and would be stripped from every allowed request`);
      }
    });
  }
  return emitted;
}
