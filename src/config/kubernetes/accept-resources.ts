/**
 * Per-resource acceptance for the Kubernetes source. A file directory is one unit that is
 * accepted or rejected as a whole; in a cluster, many teams own resources independently,
 * so (like Istio and Authorino) one invalid resource must not block the others:
 *  - a resource whose current version does not compile is rejected (Accepted=False);
 *  - if an earlier version of it was accepted, that version keeps serving ("the last good
 *    configuration keeps serving", per resource);
 *  - rejection cascades: a policy naming a rejected issuer that never worked fails too.
 * Pure: the caller keeps `lastGood` between calls.
 */
import type { ConfigProblem } from '../../errors.js';
import { compileSnapshot } from '../../compile/compile-snapshot.js';
import type { AnyResource } from '../../model/types.js';
import { resourceKey } from './to-resource.js';

export interface AcceptInput {
  /** the current versions that passed the schema check */
  resources: readonly AnyResource[];
  /** key → problems of current versions that did not even pass the schema check */
  invalid: ReadonlyMap<string, ConfigProblem[]>;
  /** key → the version served last time (updated in place) */
  lastGood: Map<string, AnyResource>;
  /** every key that exists in the API now (the rest are dropped from lastGood) */
  existing: ReadonlySet<string>;
  namespace: string;
  nowMs?: number;
}

export interface Acceptance {
  /** what is served: current versions, or last good ones */
  served: AnyResource[];
  /** key → why the current version is not served */
  rejected: Map<string, ConfigProblem[]>;
  /** key → warnings of the served version */
  warnings: Map<string, ConfigProblem[]>;
  /** problems that name no resource: nothing can be accepted (never expected; kept fail-safe) */
  global: ConfigProblem[];
}

export function keyOf(r: AnyResource, namespace: string): string {
  return resourceKey(r.kind, r.metadata.namespace ?? namespace, r.metadata.name);
}

function keyOfProblem(p: ConfigProblem, namespace: string): string | undefined {
  return p.kind && p.name ? resourceKey(p.kind, p.namespace ?? namespace, p.name) : undefined;
}

function group(problems: readonly ConfigProblem[], namespace: string): { byKey: Map<string, ConfigProblem[]>; global: ConfigProblem[] } {
  const byKey = new Map<string, ConfigProblem[]>();
  const global: ConfigProblem[] = [];
  for (const p of problems) {
    const key = keyOfProblem(p, namespace);
    if (key === undefined) global.push(p);
    else byKey.set(key, [...(byKey.get(key) ?? []), p]);
  }
  return { byKey, global };
}

export function acceptResources(input: AcceptInput): Acceptance {
  const { namespace, lastGood } = input;
  for (const key of [...lastGood.keys()]) if (!input.existing.has(key)) lastGood.delete(key);

  const rejected = new Map(input.invalid);
  const current = new Map(input.resources.map((r) => [keyOf(r, namespace), r]));
  const candidates = new Map<string, AnyResource>();
  for (const [key, r] of current) candidates.set(key, r);
  for (const key of input.invalid.keys()) {
    const good = lastGood.get(key);
    if (good) candidates.set(key, good);
  }

  // Each round removes at least one candidate, so this ends; usually after one or two rounds.
  for (let round = 0; round <= candidates.size + 1; round++) {
    const result = compileSnapshot([...candidates.values()], { namespace, generation: 0, ...(input.nowMs !== undefined ? { nowMs: input.nowMs } : {}) });
    if (result.problems.length === 0) {
      for (const [key, r] of candidates) lastGood.set(key, r);
      return { served: [...candidates.values()], rejected, warnings: group(result.warnings, namespace).byKey, global: [] };
    }
    const { byKey, global } = group(result.problems, namespace);
    if (global.length > 0) return { served: [], rejected, warnings: new Map(), global };
    for (const [key, problems] of byKey) {
      const candidate = candidates.get(key);
      if (!candidate) continue;
      if (candidate === current.get(key)) {
        rejected.set(key, problems);
        const good = lastGood.get(key);
        if (good && good !== candidate && good.metadata.generation !== candidate.metadata.generation) {
          candidates.set(key, good);
          continue;
        }
      } else if (!rejected.has(key)) {
        rejected.set(key, problems);
      }
      candidates.delete(key);
    }
  }
  return { served: [], rejected, warnings: new Map(), global: [{ message: 'per-resource acceptance did not converge' }] };
}
