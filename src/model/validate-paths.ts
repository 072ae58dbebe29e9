import { stat } from 'node:fs/promises';
import { compileSnapshot } from '../compile/compile-snapshot.js';
import type { ConfigProblem } from '../errors.js';
import { listConfigFiles, loadFiles } from './load-config-dir.js';

export interface ValidationReport {
  problems: ConfigProblem[];
  warnings: ConfigProblem[];
  resourceCount: number;
}

/**
 * `claimcheck validate`: schema and semantic (compile) checks over files and
 * directories, all compiled together so cross references resolve. No network.
 */
export async function validatePaths(paths: string[], opts: { namespace: string }): Promise<ValidationReport> {
  const problems: ConfigProblem[] = [];
  const files: string[] = [];
  for (const p of paths) {
    try {
      const st = await stat(p);
      if (st.isDirectory()) files.push(...(await listConfigFiles(p, problems)).map((f) => f.file));
      else files.push(p);
    } catch (err) {
      problems.push({ file: p, message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
    }
  }
  const loaded = await loadFiles([...new Set(files)], problems);
  const compiled = compileSnapshot(loaded.resources, { namespace: opts.namespace, generation: 0 });
  return {
    problems: [...problems, ...compiled.problems],
    warnings: compiled.warnings,
    resourceCount: loaded.resources.length,
  };
}
