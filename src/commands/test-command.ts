/**
 * `claimcheck test FILE|DIR ...`: policy tests (docs/policy-tests.md). One line per case, then a
 * summary. Exit 0 when every case passes, 1 when one fails, 2 for a broken test file or configuration.
 */
import { stat } from 'node:fs/promises';
import { formatProblem, type ConfigProblem } from '../errors.js';
import type { TestOptions } from '../cli.js';
import { listConfigFiles, readTextFile } from '../model/load-config-dir.js';
import { parsePolicyTests } from '../policy-test/parse-policy-test.js';
import { runPolicyTest, type CaseResult } from '../policy-test/run-policy-test.js';
import type { PolicyTest } from '../policy-test/types.js';

export async function runTestCommand(o: TestOptions, out: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  const { tests, problems } = await collectTests(o.paths);
  let passed = 0;
  let failed = 0;
  for (const p of problems) out(`ERROR ${formatProblem(p)}\n`);
  for (const test of tests) {
    const report = await runPolicyTest(test, o);
    for (const p of report.problems) out(`ERROR ${formatProblem(p)}\n`);
    problems.push(...report.problems);
    for (const r of report.results) {
      if (r.passed) passed++;
      else failed++;
      out(formatResult(r));
    }
  }
  if (tests.length === 0 && problems.length === 0) {
    const none: ConfigProblem = { message: `no PolicyTest documents in ${o.paths.join(', ')}` };
    problems.push(none);
    out(`ERROR ${formatProblem(none)}\n`);
  }
  out(`${passed} passed, ${failed} failed${problems.length > 0 ? `, ${problems.length} error(s)` : ''}\n`);
  return problems.length > 0 ? 2 : failed > 0 ? 1 : 0;
}

function formatResult(r: CaseResult): string {
  if (r.passed) return `PASS  ${r.test.file}  ${r.testCase.name}\n`;
  let s = `FAIL  ${r.test.file}:${r.testCase.line}  ${r.testCase.name}: ${r.differences.join('; ')}\n`;
  for (const step of r.steps) s += `        ${step.ok ? ' ok ' : 'FAIL'}  ${step.step.padEnd(10)} ${step.detail}\n`;
  return s;
}

/**
 * A named file must hold a PolicyTest; a directory is searched recursively (*.yaml, *.yml) and
 * files without one (the configuration itself) are skipped, but a file that is not readable YAML is reported.
 */
async function collectTests(paths: string[]): Promise<{ tests: PolicyTest[]; problems: ConfigProblem[] }> {
  const tests: PolicyTest[] = [];
  const problems: ConfigProblem[] = [];
  const files: { file: string; named: boolean }[] = [];
  for (const p of paths) {
    try {
      if ((await stat(p)).isDirectory()) files.push(...(await listConfigFiles(p, problems)).map((f) => ({ file: f.file, named: false })));
      else files.push({ file: p, named: true });
    } catch (err) {
      problems.push({ file: p, message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
    }
  }
  const seen = new Set<string>();
  for (const { file, named } of files) {
    if (seen.has(file)) continue;
    seen.add(file);
    const text = await readTextFile(file, problems);
    if (text === undefined) continue;
    const parsed = parsePolicyTests(text, file);
    tests.push(...parsed.tests);
    problems.push(...parsed.problems);
    if (named && parsed.tests.length === 0 && parsed.problems.length === 0) problems.push({ file, message: 'no PolicyTest document in this file' });
  }
  return { tests, problems };
}
