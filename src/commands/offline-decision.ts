/**
 * A decision without a server, shared by `claimcheck check` and `claimcheck test`: the config
 * directory compiled once, then each request decided and answered exactly as the server
 * would answer it (same pipeline, same allow and deny responses).
 */
import type { AuthRequest } from '../request.js';
import type { ConfigProblem } from '../errors.js';
import type { Decision } from '../decision.js';
import type { KeyLookup } from '../authn/types.js';
import type { Snapshot } from '../compile/snapshot.js';
import type { DeniedPlan, ResponsePlan } from '../respond/plan.js';
import { loadConfigDir } from '../model/load-config-dir.js';
import { locateProblems } from '../model/locate-problems.js';
import { compileSnapshot } from '../compile/compile-snapshot.js';
import { decideRequest, POLICY_EXTENSION } from '../pipeline/decide-request.js';
import { buildAllowPlan } from '../respond/build-allow.js';
import { buildDenyPlan } from '../respond/build-deny.js';
import { normalizeHost } from '../authz/normalize-host.js';
import { TokenCache } from '../authn/token-cache.js';

/** Every decision verifies its token afresh: a cache of size 0 keeps nothing. */
const NO_CACHE = new TokenCache({ size: 0 });

/** The server's default --reserved-header-prefix. */
export const RESERVED_PREFIX = 'x-claimcheck-';

export type LoadedSnapshot = { snapshot: Snapshot; problems?: undefined } | { snapshot?: undefined; problems: ConfigProblem[] };

/** Load and compile a config directory; any problem (as `validate` reports it) means no snapshot. */
/** `celCostLimit`: --cel-cost-limit, as serve would compile with it */
export async function loadSnapshot(configDir: string, namespace: string, celCostLimit?: number): Promise<LoadedSnapshot> {
  const loaded = await loadConfigDir(configDir);
  if (loaded.problems.length > 0) return { problems: loaded.problems };
  const compiled = compileSnapshot(loaded.resources, { namespace, generation: 1, ...(celCostLimit !== undefined ? { celCostLimit } : {}) });
  if (!compiled.snapshot || compiled.problems.length > 0) return { problems: await locateProblems(compiled.problems) };
  return { snapshot: compiled.snapshot };
}

export interface OfflineRequest {
  host: string;
  path: string;
  method: string;
  /** lowercase name -> one value per occurrence */
  headers: Map<string, string[]>;
  /** namespace/name, as the `claimcheck.io/policy` context extension */
  policy?: string;
}

export interface OfflineContext {
  snapshot: Snapshot;
  keys: KeyLookup;
  maxTokenBytes: number;
  nowSec?: number;
}

export interface OfflineOutcome {
  request: AuthRequest;
  decision: Decision;
  /** what Envoy would get: headers for the upstream on allow, the denial otherwise */
  plan: ResponsePlan;
  /** audit mode: the denial enforce mode would have answered */
  wouldDeny?: DeniedPlan;
}

export async function decideOffline(r: OfflineRequest, ctx: OfflineContext): Promise<OfflineOutcome> {
  const request: AuthRequest = {
    method: r.method,
    host: r.host,
    path: r.path,
    headers: r.headers,
    contextExtensions: r.policy ? { [POLICY_EXTENSION]: r.policy } : {},
    requestId: r.headers.get('x-request-id')?.[0] ?? 'cli',
    scheme: 'https',
    source: { principal: '', address: '' },
    destination: { principal: '', address: '' },
  };
  const { snapshot } = ctx;
  const decision = await decideRequest(request, {
    tokenCache: NO_CACHE,
    snapshot,
    keys: ctx.keys,
    nowSec: ctx.nowSec ?? Date.now() / 1000,
    options: { unmatchedHost: 'deny', maxTokenBytes: ctx.maxTokenBytes },
    explain: true,
  });
  const denyContext = { host: normalizeHost(r.host), requestId: request.requestId };
  const plan = decision.allow
    ? buildAllowPlan(decision, { snapshot, headers: r.headers, reservedPrefix: RESERVED_PREFIX })
    : buildDenyPlan(decision, denyContext);
  const outcome: OfflineOutcome = { request, decision, plan };
  if (decision.allow && decision.auditedDeny) outcome.wouldDeny = buildDenyPlan(decision.auditedDeny, denyContext);
  return outcome;
}
