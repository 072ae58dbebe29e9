import type { CompiledIssuer } from './snapshot.js';

export type Resolution = { found: true; issuer?: CompiledIssuer; key: string } | { found: false };

/**
 * Issuer visibility (docs/reference.md "Namespaces and visibility"): issuers of claimcheck's own namespace are
 * visible everywhere, others only in their namespace; a name in the referrer's own
 * namespace wins over the mesh-wide one.
 */
export class IssuerScope {
  /** every declared issuer key, including ones that failed to compile */
  private readonly declared = new Set<string>();
  private readonly compiled = new Map<string, CompiledIssuer>();

  constructor(private readonly rootNamespace: string) {}

  declare(key: string, issuer: CompiledIssuer | undefined): void {
    this.declared.add(key);
    if (issuer) this.compiled.set(key, issuer);
  }

  /** `issuer` is undefined when the name resolves to an issuer that has its own problems. */
  resolve(name: string, namespace: string): Resolution {
    for (const key of [`${namespace}/${name}`, `${this.rootNamespace}/${name}`]) {
      if (this.declared.has(key)) {
        const issuer = this.compiled.get(key);
        return issuer ? { found: true, issuer, key } : { found: true, key };
      }
    }
    return { found: false };
  }

  get issuers(): ReadonlyMap<string, CompiledIssuer> {
    return this.compiled;
  }
}
