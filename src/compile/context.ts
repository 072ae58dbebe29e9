import type { ConfigProblem } from '../errors.js';
import type { AnyResource } from '../model/types.js';

/** Collects problems (which block the snapshot) and warnings (which do not) while compiling. */
export class CompileContext {
  readonly problems: ConfigProblem[] = [];
  readonly warnings: ConfigProblem[] = [];
  constructor(
    /** claimcheck's own namespace: default for resources without one, and mesh-wide issuers */
    readonly namespace: string,
    readonly nowMs: number,
  ) {}

  namespaceOf(r: AnyResource): string {
    return r.metadata.namespace ?? this.namespace;
  }

  keyOf(r: AnyResource): string {
    return `${this.namespaceOf(r)}/${r.metadata.name}`;
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
