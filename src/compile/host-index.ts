import type { AuthPolicy } from '../model/types.js';
import type { CompileContext } from './context.js';
import { normalizeHostPattern } from './policies.js';
import type { CompiledPolicy } from './snapshot.js';

export interface PolicyEntry {
  policy: CompiledPolicy;
  resource: AuthPolicy;
}

export type HostLookup = (host: string) => CompiledPolicy | undefined;

/**
 * Older first: creationTimestamp where known (unknown counts as newest), then
 * namespace/name, so the same set of resources always gives the same owner.
 */
export function byAge(a: PolicyEntry, b: PolicyEntry): number {
  const ta = timeOf(a.resource);
  const tb = timeOf(b.resource);
  if (ta !== tb) return ta < tb ? -1 : 1;
  return a.policy.key < b.policy.key ? -1 : a.policy.key > b.policy.key ? 1 : 0;
}

function timeOf(r: AuthPolicy): number {
  const t = r.metadata.creationTimestamp ? Date.parse(r.metadata.creationTimestamp) : NaN;
  return Number.isNaN(t) ? Number.POSITIVE_INFINITY : t;
}

/**
 * Exact hosts and `*.suffix` wildcards in two maps. A lookup tries the host's proper
 * suffixes from the longest down, but only those with at most as many labels as the
 * deepest wildcard: a host of many short labels costs no more than a normal one (each
 * suffix tried is hashed), and it never depends on the number of policies. An exact
 * host beats any wildcard and the longest wildcard wins.
 */
export function buildHostIndex(entries: readonly PolicyEntry[], ctx: CompileContext): HostLookup {
  const exact = new Map<string, CompiledPolicy>();
  const wildcard = new Map<string, CompiledPolicy>();
  for (const e of [...entries].sort(byAge)) {
    e.policy.hosts.forEach((h) => {
      const [map, key] = h.startsWith('*.') ? [wildcard, h.slice(2)] : [exact, h];
      const owner = map.get(key);
      if (owner) {
        const i = (e.resource.spec.hosts ?? []).findIndex((raw) => normalizeHostPattern(raw) === h);
        ctx.warning(e.resource, i >= 0 ? `/spec/hosts/${i}` : '/spec/hosts',
          `Conflicted: host ${JSON.stringify(h)} is already claimed by the older AuthPolicy ${owner.key}; this policy does not receive it`);
      } else {
        map.set(key, e.policy);
      }
    });
  }
  let depth = 0;
  for (const suffix of wildcard.keys()) depth = Math.max(depth, labelsOf(suffix));
  return (host: string) => {
    const p = exact.get(host);
    if (p) return p;
    if (wildcard.size === 0) return undefined;
    // the dot that starts the longest suffix worth trying (`depth` labels after it)
    let first = -1;
    for (let k = 0, at = host.length; k < depth; k++) {
      const dot = host.lastIndexOf('.', at - 1);
      if (dot <= 0) break;
      first = at = dot;
    }
    // `*.example.com` matches `a.example.com` and `a.b.example.com`, never `example.com`
    for (let dot = first; dot !== -1; dot = host.indexOf('.', dot + 1)) {
      const w = wildcard.get(host.slice(dot + 1));
      if (w) return w;
    }
    return undefined;
  };
}

function labelsOf(name: string): number {
  let n = 1;
  for (let i = name.indexOf('.'); i !== -1; i = name.indexOf('.', i + 1)) n++;
  return n;
}
