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
 * Exact hosts and `*.suffix` wildcards in two maps. A lookup walks the host's labels
 * from the longest proper suffix down, so it costs O(labels), not O(policies):
 * an exact host beats any wildcard and the longest wildcard wins.
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
  return (host: string) => {
    const p = exact.get(host);
    if (p) return p;
    if (wildcard.size === 0) return undefined;
    // `*.example.com` matches `a.example.com` and `a.b.example.com`, never `example.com`
    for (let dot = host.indexOf('.'); dot !== -1; dot = host.indexOf('.', dot + 1)) {
      const w = wildcard.get(host.slice(dot + 1));
      if (w) return w;
    }
    return undefined;
  };
}
