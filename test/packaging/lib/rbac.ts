/** RBAC rules as comparable "group/resource:verb" triples. */
import type { K8sObject } from './tools.js';

export function rulesOf(docs: K8sObject[]): any[] {
  return docs.filter((d) => d.kind === 'Role' || d.kind === 'ClusterRole').flatMap((d) => d.rules ?? []);
}

export function rbacTriples(docs: K8sObject[]): Set<string> {
  const out = new Set<string>();
  for (const r of rulesOf(docs)) {
    for (const g of r.apiGroups ?? ['']) for (const res of r.resources ?? []) for (const v of r.verbs ?? []) out.add(`${g || 'core'}/${res}:${v}`);
  }
  return out;
}
