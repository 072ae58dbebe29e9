import { stat } from 'node:fs/promises';
import { compileSnapshot } from '../compile/compile-snapshot.js';
import type { ConfigProblem } from '../errors.js';
import { listConfigFiles, loadFiles } from '../model/load-config-dir.js';
import { locateProblems } from '../model/locate-problems.js';

export interface ValidationReport {
  problems: ConfigProblem[];
  warnings: ConfigProblem[];
  /** claimcheck.io documents read */
  documentCount: number;
  /** the ones that passed the schema check */
  resourceCount: number;
  fileCount: number;
}

/**
 * `claimcheck validate`: schema and semantic (compile) checks over files and
 * directories, all compiled together so cross references resolve. No network.
 * A named file is read whatever its extension (JSON is YAML); a directory
 * contributes its *.yaml and *.yml files. A path without any claimcheck.io
 * document is an error: a typo must not pass as "valid".
 */
export async function validatePaths(paths: string[], opts: { namespace: string; celCostLimit?: number }): Promise<ValidationReport> {
  const problems: ConfigProblem[] = [];
  const resources = [];
  const seen = new Set<string>();
  let documentCount = 0;
  for (const p of paths) {
    let files: string[];
    try {
      const st = await stat(p);
      files = st.isDirectory() ? (await listConfigFiles(p, problems)).map((f) => f.file) : [p];
    } catch (err) {
      problems.push({ file: p, message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
      continue;
    }
    const fresh = files.filter((f) => !seen.has(f));
    for (const f of fresh) seen.add(f);
    const loaded = await loadFiles(fresh, problems);
    resources.push(...loaded.resources);
    documentCount += loaded.documents;
    if (loaded.documents === 0 && fresh.length === files.length) {
      problems.push({ file: p, message: files.length === 0 ? 'no *.yaml or *.yml files here' : 'no claimcheck.io/v1alpha1 documents here' });
    }
  }
  const compiled = compileSnapshot(resources, { namespace: opts.namespace, generation: 0, ...(opts.celCostLimit !== undefined ? { celCostLimit: opts.celCostLimit } : {}) });
  return {
    problems: [...problems, ...(await locateProblems(compiled.problems))],
    warnings: await locateProblems(compiled.warnings),
    documentCount,
    resourceCount: resources.length,
    fileCount: seen.size,
  };
}
