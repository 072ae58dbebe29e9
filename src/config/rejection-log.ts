/** Logs each rejected resource once per distinct set of problems, not on every rebuild. */
import { formatProblem, type ConfigProblem } from '../errors.js';
import type { Logger } from '../telemetry/logger.js';

export class RejectionLog {
  private reported = new Map<string, string>();

  constructor(private readonly logger: Logger) {}

  /** `rejected`: key → problems now; `served`: keys served now (to say "accepted again"). */
  report(rejected: ReadonlyMap<string, readonly ConfigProblem[]>, served: ReadonlySet<string>): void {
    const next = new Map<string, string>();
    for (const [key, problems] of rejected) {
      const text = problems.map(formatProblem).join('; ');
      next.set(key, text);
      if (this.reported.get(key) === text) continue;
      const p = problems[0];
      this.logger.error({ kind: p?.kind, namespace: p?.namespace, name: p?.name, file: p?.file, line: p?.line, problems: problems.length }, `resource rejected: ${text}`);
    }
    for (const key of this.reported.keys()) {
      if (!next.has(key) && served.has(key)) this.logger.info({ resource: key }, 'resource accepted again');
    }
    this.reported = next;
  }
}
