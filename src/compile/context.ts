import { CEL_COST_LIMIT } from '../authz/cel/cost-model.js';
import type { ConfigProblem } from '../errors.js';
import { dirname, resolve } from 'node:path';
import type { AnyResource, Origin } from '../model/types.js';

/** File source: a path a manifest names (a secretRef's `path`), relative to that manifest's directory, so a config dir moves as a whole. */
export function manifestRelative(r: { origin?: Origin }, path: string): string {
  return resolve(r.origin ? dirname(r.origin.file) : '.', path);
}

/** Collects problems (which block the snapshot) and warnings (which do not) while compiling. */
export class CompileContext {
  readonly problems: ConfigProblem[] = [];
  readonly warnings: ConfigProblem[] = [];
  private readonly shared = new Map<string, unknown>();
  constructor(
    /** claimcheck's own namespace: default for resources without one, and mesh-wide issuers */
    readonly namespace: string,
    readonly nowMs: number,
    /** --identity-issuer; null: the server has none (identity.token is refused); undefined: not checked (offline commands) */
    readonly identityIssuer?: string | null,
    /** --cel-cost-limit */
    readonly celCostLimit = CEL_COST_LIMIT,
  ) {}

  namespaceOf(r: AnyResource): string {
    return r.metadata.namespace ?? this.namespace;
  }

  keyOf(r: AnyResource): string {
    return `${this.namespaceOf(r)}/${r.metadata.name}`;
  }

  /**
   * One compiled value per distinct input within this compilation: policies stamped from a
   * template (Helm, Kustomize) repeat the same rules, claims and conditions thousands of times,
   * and compiled values are immutable. Only a build that added no problem or warning is shared,
   * so every resource still gets its own messages.
   */
  share<T>(kind: string, input: unknown, build: () => T): T {
    const key = `${kind}\0${JSON.stringify(input) ?? ''}`;
    if (this.shared.has(key)) return this.shared.get(key) as T;
    const problems = this.problems.length;
    const warnings = this.warnings.length;
    const value = build();
    if (this.problems.length === problems && this.warnings.length === warnings) this.shared.set(key, value);
    return value;
  }

  problem(r: AnyResource, path: string | undefined, message: string): void {
    this.problems.push(this.located(r, path, message));
  }

  warning(r: AnyResource, path: string | undefined, message: string): void {
    this.warnings.push(this.located(r, path, message));
  }

  private located(r: AnyResource, path: string | undefined, message: string): ConfigProblem {
    const p: ConfigProblem = { kind: r.kind, name: r.metadata.name, namespace: this.namespaceOf(r), message };
    if (r.origin) {
      p.file = r.origin.file;
      p.line = r.origin.line;
    }
    if (path) p.path = path;
    return p;
  }
}
