/**
 * The status each resource should have, from what the Kubernetes source decided and what
 * the key sets report. Pure. Conditions follow metav1.Condition (type, status, reason,
 * message, observedGeneration, lastTransitionTime); reasons are part of the API
 * (docs/kubernetes.md "Status").
 */
import { formatProblem, type ConfigProblem } from '../../../errors.js';
import type { Acceptance } from '../../accept-resources.js';
import type { WatchedObject } from '../kubernetes-source.js';
import type { SecretRefStatus } from '../secret-watches.js';
import { resourceKey } from '../to-resource.js';
import type { AnyResource } from '../../../model/types.js';

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
  observedGeneration: number;
  lastTransitionTime?: string;
}

export interface DesiredStatus {
  observedGeneration: number;
  conditions: Condition[];
  /** TrustedIssuer only */
  keyIds?: string[];
  /** TrustedIssuer only: when its keys were last confirmed current (RFC 3339, seconds) */
  lastRefreshTime?: string;
}

/**
 * lastRefreshTime moves on every successful fetch or unchanged poll (every 2 s for a key
 * file); it is written again only once it is this much newer than what the object holds.
 */
export const LAST_REFRESH_WRITE_MS = 5 * 60_000;

/** The parts of a key set's status that conditions use (see KeyRegistry.status()). */
export interface IssuerKeyStatus {
  issuer: string;
  ready: boolean;
  keyCount: number;
  keyIds?: string[];
  /** ISO time the keys were last confirmed current */
  lastRefresh?: string;
  stale?: boolean;
  state?: string;
  error?: string;
}

export interface StatusContext {
  namespace: string;
  acceptance: Acceptance;
  /** keys of every object in the API */
  existing: ReadonlySet<string>;
  /** key → the version being served */
  served: ReadonlyMap<string, AnyResource>;
  /** namespace/name → key set status */
  keys: ReadonlyMap<string, IssuerKeyStatus>;
  lookupSecret(namespace: string, name: string, key: string | undefined): SecretRefStatus;
  nowMs: number;
}

const MAX_MESSAGE = 1024;

function clip(text: string): string {
  return text.length <= MAX_MESSAGE ? text : `${text.slice(0, MAX_MESSAGE - 1)}…`;
}

function describe(problems: readonly ConfigProblem[]): string {
  // kind and name are the object itself: leave them out of its own status
  return problems.map((p) => formatProblem({ ...(p.path ? { path: p.path } : {}), message: p.message })).join('; ');
}

const CONFLICT = /^Conflicted: /;
const EXPIRED = /^Expired: /;

export function desiredStatus(o: WatchedObject, ctx: StatusContext): DesiredStatus {
  const generation = o.obj.metadata.generation ?? 0;
  const cond = (type: string, status: ConditionStatus, reason: string, message: string): Condition =>
    ({ type, status, reason, message: clip(message), observedGeneration: generation });
  const namespace = o.obj.metadata.namespace ?? ctx.namespace;
  const spec = (o.obj.spec ?? {}) as Record<string, any>;
  const served = ctx.served.get(o.key);
  // generation, not resourceVersion: writing status changes the latter, never the spec
  const servedNow = served !== undefined && served.metadata.generation === o.obj.metadata.generation && served.metadata.uid === o.obj.metadata.uid;
  const rejected = ctx.acceptance.rejected.get(o.key);
  const warnings = servedNow ? (ctx.acceptance.warnings.get(o.key) ?? []) : [];
  const conditions: Condition[] = [];

  const refs = resolvedRefs(o, spec, namespace, ctx);
  if (rejected && !servedNow) {
    const still = served ? `; still serving generation ${served.metadata.generation ?? '?'}` : '';
    conditions.push(cond('Accepted', 'False', refs.status === 'False' ? 'UnresolvedRefs' : 'Invalid', `${describe(rejected)}${still}`));
  } else {
    // Conflicted and Expired have conditions of their own
    const notes = warnings.filter((w) => !CONFLICT.test(w.message) && !EXPIRED.test(w.message));
    conditions.push(cond('Accepted', 'True', 'Accepted', notes.length > 0 ? `accepted with warnings: ${describe(notes)}` : 'accepted'));
  }
  conditions.push(cond('ResolvedRefs', refs.status, refs.reason, refs.message));

  const status: DesiredStatus = { observedGeneration: generation, conditions };
  if (o.info.kind === 'TrustedIssuer') {
    const ks = ctx.keys.get(`${namespace}/${o.obj.metadata.name}`);
    conditions.push(keysReady(ks, served !== undefined, cond));
    if (ks?.keyIds && ks.ready) status.keyIds = [...ks.keyIds].sort();
    if (ks?.lastRefresh) status.lastRefreshTime = ks.lastRefresh.replace(/\.\d+Z$/, 'Z');
  } else if (o.info.kind === 'AuthPolicy') {
    const conflicts = warnings.filter((w) => CONFLICT.test(w.message));
    conditions.push(conflicts.length > 0
      ? cond('Conflicted', 'True', 'HostConflict', conflicts.map((w) => w.message.replace(CONFLICT, '')).join('; '))
      : cond('Conflicted', 'False', 'NoConflict', 'no host is claimed by an older AuthPolicy'));
  } else if (o.info.kind === 'TokenRevocation') {
    const expiresAt = typeof spec.expiresAt === 'string' ? Date.parse(spec.expiresAt) : NaN;
    conditions.push(!Number.isNaN(expiresAt) && expiresAt <= ctx.nowMs
      ? cond('Expired', 'True', 'Expired', `expired at ${spec.expiresAt}; this revocation is ignored`)
      : cond('Expired', 'False', 'Active', Number.isNaN(expiresAt) ? 'no expiry' : `active until ${spec.expiresAt}`));
  }
  return status;
}

type Cond = (type: string, status: ConditionStatus, reason: string, message: string) => Condition;

function keysReady(ks: IssuerKeyStatus | undefined, served: boolean, cond: Cond): Condition {
  if (!served) return cond('KeysReady', 'Unknown', 'NotAccepted', 'the issuer is not accepted, so no keys are loaded');
  if (!ks) return cond('KeysReady', 'Unknown', 'Pending', 'keys not loaded yet');
  if (ks.ready && ks.stale) return cond('KeysReady', 'True', 'StaleKeys', `serving the last good ${ks.keyCount} key(s); the latest refresh failed: ${ks.error ?? 'unknown error'}`);
  if (ks.ready) return cond('KeysReady', 'True', 'KeysLoaded', `${ks.keyCount} key(s) loaded`);
  if (ks.error) return cond('KeysReady', 'False', 'KeysUnavailable', ks.error);
  return cond('KeysReady', 'Unknown', 'Pending', 'keys not loaded yet');
}

interface Refs {
  status: ConditionStatus;
  reason: string;
  message: string;
}

/** Issuer visibility as the compiler applies it: own namespace first, then claimcheck's namespace. */
function resolvedRefs(o: WatchedObject, spec: Record<string, any>, namespace: string, ctx: StatusContext): Refs {
  if (o.info.kind === 'TrustedIssuer') {
    // the Secrets of signature keys, decryption keys and the introspection client: the first not found decides
    const refs = [spec.jwks?.secretRef, spec.decryption?.secretRef, spec.introspection?.clientSecretRef, spec.introspection?.clientKeyRef].filter((r): r is { name: string; key?: string } => typeof r?.name === 'string');
    if (refs.length === 0) return { status: 'True', reason: 'ResolvedRefs', message: 'no references' };
    const found: string[] = [];
    for (const ref of refs) {
      const s = ctx.lookupSecret(namespace, ref.name, ref.key);
      if (s.state === 'found') {
        found.push(s.message);
        continue;
      }
      if (s.state === 'pending') return { status: 'Unknown', reason: 'Pending', message: s.message };
      const reason = s.state === 'secretNotFound' ? 'SecretNotFound' : s.state === 'unreadable' ? 'SecretUnreadable' : 'SecretKeyNotFound';
      return { status: 'False', reason, message: s.message };
    }
    return { status: 'True', reason: 'ResolvedRefs', message: found.join('; ') };
  }
  const names = new Set<string>();
  if (o.info.kind === 'AuthPolicy') {
    for (const n of (spec.issuers ?? []) as string[]) names.add(n);
    for (const rule of (spec.rules ?? []) as { require?: { issuers?: string[] } }[]) for (const n of rule.require?.issuers ?? []) names.add(n);
  } else if (typeof spec.issuer === 'string') {
    names.add(spec.issuer);
  }
  const missing: string[] = [];
  const unaccepted: string[] = [];
  for (const name of names) {
    const candidates = [resourceKey('TrustedIssuer', namespace, name), resourceKey('TrustedIssuer', ctx.namespace, name)];
    const found = candidates.find((k) => ctx.existing.has(k));
    if (!found) missing.push(name);
    else if (!ctx.served.has(found)) unaccepted.push(name);
  }
  if (missing.length > 0) {
    const where = namespace === ctx.namespace ? `namespace ${namespace}` : `namespace ${namespace} or ${ctx.namespace}`;
    return { status: 'False', reason: 'IssuerNotFound', message: `TrustedIssuer ${missing.join(', ')} not found in ${where}` };
  }
  if (unaccepted.length > 0) return { status: 'False', reason: 'IssuerNotAccepted', message: `TrustedIssuer ${unaccepted.join(', ')} is not accepted` };
  return { status: 'True', reason: 'ResolvedRefs', message: names.size > 0 ? `issuers resolved: ${[...names].join(', ')}` : 'no references' };
}

/** Existing conditions keep their lastTransitionTime while their status stays the same. */
export function withTransitionTimes(desired: readonly Condition[], existing: readonly Condition[] | undefined, nowIso: string): Condition[] {
  return desired.map((c) => {
    const before = existing?.find((e) => e.type === c.type);
    return { ...c, lastTransitionTime: before && before.status === c.status && before.lastTransitionTime ? before.lastTransitionTime : nowIso };
  });
}

/** Equal apart from lastTransitionTime: then nothing is written. */
export function sameStatus(current: Record<string, any> | undefined, desired: DesiredStatus): boolean {
  if (!current || current.observedGeneration !== desired.observedGeneration) return false;
  if (JSON.stringify(current.keyIds ?? null) !== JSON.stringify(desired.keyIds ?? null)) return false;
  if (!sameRefresh(current.lastRefreshTime, desired.lastRefreshTime)) return false;
  const have = (current.conditions ?? []) as Condition[];
  if (have.length !== desired.conditions.length) return false;
  return desired.conditions.every((d) => {
    const c = have.find((h) => h.type === d.type);
    return !!c && c.status === d.status && c.reason === d.reason && c.message === d.message && c.observedGeneration === d.observedGeneration;
  });
}

function sameRefresh(current: unknown, desired: string | undefined): boolean {
  if (desired === undefined) return current === undefined || current === null;
  if (typeof current !== 'string') return false;
  return Date.parse(desired) - Date.parse(current) < LAST_REFRESH_WRITE_MS;
}
