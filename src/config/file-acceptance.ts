/**
 * Per-resource acceptance for the file source, as the Kubernetes source does it: a
 * resource with a problem is refused (its last good version keeps serving), every other
 * resource is served.
 */
import type { CompileSettings } from '../compile/compile-snapshot.js';
import type { ConfigProblem } from '../errors.js';
import type { LoadedConfig } from '../model/load-config-dir.js';
import { locateProblems } from '../model/locate-problems.js';
import type { AnyResource } from '../model/types.js';
import type { Logger } from '../telemetry/logger.js';
import { acceptResources, keyOf, resourceKey } from './accept-resources.js';
import type { ConfigDelivery } from './config-delivery.js';
import { RejectionLog } from './rejection-log.js';

export class FileAcceptance {
  private readonly lastGood = new Map<string, AnyResource>();
  private readonly log: RejectionLog;

  constructor(private readonly namespace: string, logger: Logger, private readonly settings?: CompileSettings) {
    this.log = new RejectionLog(logger);
  }

  async accept(loaded: LoadedConfig): Promise<ConfigDelivery> {
    const ns = this.namespace;
    const invalid = new Map<string, ConfigProblem[]>();
    /** problems no resource can be blamed for: a syntax error, an unreadable file */
    const unplaced = new Map<string, ConfigProblem[]>();
    const fatal: ConfigProblem[] = [];
    for (const p of loaded.problems) {
      if (p.kind && p.name) add(invalid, resourceKey(p.kind, p.namespace ?? ns, p.name), { ...p, namespace: p.namespace ?? ns });
      // a directory that cannot be read would drop every resource in it: keep the last good configuration
      else if (p.code === 'config_dir_unreadable') fatal.push(p);
      else add(unplaced, `${p.file ?? ''}:${p.line ?? 0}`, p);
    }
    if (fatal.length > 0) return { resources: [], refusedIssuers: new Set(), rejected: fatal, fatal, files: loaded.files };

    // A file with a broken part may still hold its resources: they keep their last good version.
    const broken = new Set([...unplaced.values()].flat().map((p) => p.file));
    const existing = new Set([...loaded.resources.map((r) => keyOf(r, ns)), ...invalid.keys()]);
    for (const [key, r] of this.lastGood) if (r.origin && broken.has(r.origin.file)) existing.add(key);
    const acceptance = acceptResources({ resources: loaded.resources, invalid, lastGood: this.lastGood, existing, namespace: ns, ...(this.settings ? { settings: this.settings } : {}) });
    if (acceptance.global.length > 0) return { resources: [], refusedIssuers: new Set(), rejected: acceptance.global, fatal: acceptance.global, files: loaded.files };

    const rejected = new Map<string, ConfigProblem[]>(unplaced);
    for (const [key, problems] of acceptance.rejected) rejected.set(key, await locateProblems(problems));
    this.log.report(rejected, new Set(acceptance.served.map((r) => keyOf(r, ns))));
    return {
      resources: acceptance.served,
      refusedIssuers: acceptance.refusedIssuers,
      rejected: [...rejected.values()].flat(),
      fatal: [],
      files: loaded.files,
    };
  }
}

function add(map: Map<string, ConfigProblem[]>, key: string, p: ConfigProblem): void {
  const list = map.get(key);
  if (list) list.push(p);
  else map.set(key, [p]);
}
