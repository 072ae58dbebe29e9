/** `claimcheck validate FILE|DIR ...`: schema and semantic checks, no network. Exit 0 valid, 1 any error. */
import { formatProblem } from '../errors.js';
import { parseValidate } from '../cli.js';
import { validatePaths } from './validate-paths.js';

export async function runValidateCommand(argv: string[], out: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  const { paths, namespace, celCostLimit } = parseValidate(argv);
  const r = await validatePaths(paths, { namespace, celCostLimit });
  for (const w of r.warnings) out(`warning: ${formatProblem(w)}\n`);
  for (const p of r.problems) out(`error: ${formatProblem(p)}\n`);
  out(`${r.documentCount} document(s) in ${r.fileCount} file(s): ${r.resourceCount} valid, ${r.problems.length} error(s), ${r.warnings.length} warning(s)\n`);
  return r.problems.length > 0 ? 1 : 0;
}
