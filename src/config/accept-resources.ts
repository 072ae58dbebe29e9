/**
 * Per-resource acceptance, shared by the file and the Kubernetes source. Many teams own
 * resources independently, so (like Istio and Authorino) one invalid resource must not
 * block the others:
 *  - a resource whose current version does not compile is rejected;
 *  - if an earlier version of it was accepted, that version keeps serving ("the last good
 *    configuration keeps serving", per resource);
 *  - a rejected issuer with no last good version is refused: policies and revocations
 *    naming it still load, and its tokens are denied as if it did not exist (fail closed,
 *    also under --unmatched-host allow, which a rejected policy would fall through to).
 * Pure: the caller keeps `lastGood` between calls.
 */
import type { ConfigProblem } from '../errors.js';
import { compileSnapshot, type CompileSettings } from '../compile/compile-snapshot.js';
import type { AnyResource } from '../model/types.js';

export interface AcceptInput {
  /** the current versions that passed the schema check */
  resources: readonly AnyResource[];
  /** key → problems of current versions that did not even pass the schema check */
  invalid: ReadonlyMap<string, ConfigProblem[]>;
  /** key → the version served last time (updated in place) */
  lastGood: Map<string, AnyResource>;
  /** every key that exists now (the rest are dropped from lastGood) */
  existing: ReadonlySet<string>;
  namespace: string;
  nowMs?: number;
  /** the server's compile settings (identity issuer, CEL cost limit) */
  settings?: CompileSettings;
}

export interface Acceptance {
  /** what is served: current versions, or last good ones */
  served: AnyResource[];
  /** key → why the current version is not served */
  rejected: Map<string, ConfigProblem[]>;
  /** key → warnings of the served version */
  warnings: Map<string, ConfigProblem[]>;
  /** namespace/name of issuers that are rejected and have no last good version */
  refusedIssuers: Set<string>;
  /** problems that name no resource: nothing can be accepted (never expected; kept fail-safe) */
  global: ConfigProblem[];
}

export function resourceKey(kind: string, namespace: string | undefined, name: string): string {
  return `${kind}/${namespace ?? ''}/${name}`;
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

const ISSUER = 'TrustedIssuer/';

export function acceptResources(input: AcceptInput): Acceptance {
  const { namespace, lastGood } = input;
  for (const key of [...lastGood.keys()]) if (!input.existing.has(key)) lastGood.delete(key);

  const rejected = new Map(input.invalid);
  const refused = new Set<string>();
  const current = new Map(input.resources.map((r) => [keyOf(r, namespace), r]));
  const candidates = new Map<string, AnyResource>(current);
  const refuse = (key: string) => {
    if (key.startsWith(ISSUER)) refused.add(key.slice(ISSUER.length));
  };
  for (const key of input.invalid.keys()) {
    const good = lastGood.get(key);
    if (good) candidates.set(key, good);
    else refuse(key);
  }

  // Each round removes or replaces at least one candidate, so this ends; usually after one or two rounds.
  for (let round = 0; round <= 2 * candidates.size + 2; round++) {
    const result = compileSnapshot([...candidates.values()], {
      namespace,
      generation: 0,
      refusedIssuers: refused,
      ...(input.nowMs !== undefined ? { nowMs: input.nowMs } : {}),
      ...input.settings,
    });
    if (result.problems.length === 0) {
      for (const [key, r] of candidates) lastGood.set(key, r);
      return { served: [...candidates.values()], rejected, warnings: group(result.warnings, namespace).byKey, refusedIssuers: refused, global: [] };
    }
    const { byKey, global } = group(result.problems, namespace);
    if (global.length > 0) return { served: [], rejected, warnings: new Map(), refusedIssuers: refused, global };
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
      refuse(key);
    }
  }
  return { served: [], rejected, warnings: new Map(), refusedIssuers: refused, global: [{ message: 'per-resource acceptance did not converge' }] };
}
