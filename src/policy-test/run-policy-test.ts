/** Runs one PolicyTest document: its configuration compiled once, every case decided as the server would. */
import type { ConfigProblem } from '../errors.js';
import type { Step } from '../decision.js';
import type { CompiledIssuer, Snapshot } from '../compile/snapshot.js';
import { KeyRegistry } from '../keys/key-registry.js';
import { silentLogger } from '../telemetry/logger.js';
import { decideOffline, loadSnapshot } from '../commands/offline-decision.js';
import { buildTestRequest } from './build-test-request.js';
import { differences, observe } from './compare-outcome.js';
import { signTestToken } from './sign-test-token.js';
import { generateThrowawayKey, testIssuerView, type ThrowawayKey } from './throwaway-keys.js';
import type { PolicyTest, TestCase } from './types.js';

export interface RunOptions {
  /** claimcheck's own namespace: resources without one, and the mesh-wide issuers */
  namespace: string;
  maxTokenBytes: number;
  /** --cel-cost-limit */
  celCostLimit?: number;
}

export interface CaseResult {
  test: PolicyTest;
  testCase: TestCase;
  passed: boolean;
  /** why it failed, one entry per difference */
  differences: string[];
  /** the decision's explanation, as `claimcheck check` prints it */
  steps: Step[];
}

export interface PolicyTestReport {
  results: CaseResult[];
  /** a broken configuration or a case that cannot run: exit 2 */
  problems: ConfigProblem[];
}

const KEYS_READY_MS = 10_000;

export async function runPolicyTest(test: PolicyTest, opts: RunOptions): Promise<PolicyTestReport> {
  const loaded = await loadSnapshot(test.configDir, opts.namespace, opts.celCostLimit);
  if (!loaded.snapshot) {
    const head: ConfigProblem = { file: test.file, line: test.line, message: `configuration ${test.config} has ${loaded.problems.length} error(s); no case of this document ran` };
    return { results: [], problems: [head, ...loaded.problems] };
  }
  const snapshot = loaded.snapshot;
  const problems: ConfigProblem[] = [];
  const runnable: { testCase: TestCase; issuer?: CompiledIssuer }[] = [];
  for (const testCase of test.cases) {
    if (!testCase.token) {
      runnable.push({ testCase });
      continue;
    }
    const issuer = resolveIssuer(snapshot, testCase.token.issuer, test.namespace ?? opts.namespace, opts.namespace);
    if (issuer) runnable.push({ testCase, issuer });
    else problems.push({ file: test.file, line: testCase.token.line, message: `case ${JSON.stringify(testCase.name)}: token.issuer ${JSON.stringify(testCase.token.issuer)} is not a TrustedIssuer of ${test.config}` });
  }

  const keys = new Map<string, ThrowawayKey>();
  for (const { issuer } of runnable) if (issuer && !keys.has(issuer.key)) keys.set(issuer.key, generateThrowawayKey(issuer.algorithms));
  const registry = new KeyRegistry({
    logger: silentLogger(),
    readSecret: (issuer) => {
      const key = keys.get(issuer.key);
      return key?.symmetric ? Buffer.from(JSON.stringify(key.jwks)) : undefined;
    },
  });
  const results: CaseResult[] = [];
  try {
    registry.sync([...snapshot.issuers.values()].map((i) => testIssuerView(i, keys.get(i.key))));
    await registry.waitReady(KEYS_READY_MS);
    for (const { testCase, issuer } of runnable) {
      const nowSec = Date.now() / 1000;
      const credential = testCase.token && issuer ? signTestToken(testCase.token, issuer, keys.get(issuer.key)!, nowSec) : testCase.raw;
      const request = buildTestRequest(testCase.request, credential, snapshot);
      const outcome = await decideOffline(request, { snapshot, keys: registry, maxTokenBytes: opts.maxTokenBytes, nowSec });
      const diffs = differences(testCase.expect, observe(outcome, request));
      results.push({ test, testCase, passed: diffs.length === 0, differences: diffs, steps: outcome.decision.steps });
    }
  } finally {
    registry.close();
  }
  return { results, problems };
}

/** namespace/name as is; a bare name in the test's namespace first, then claimcheck's own (docs/reference.md, namespaces and visibility). */
export function resolveIssuer(snapshot: Snapshot, name: string, testNamespace: string, rootNamespace: string): CompiledIssuer | undefined {
  if (name.includes('/')) return snapshot.issuers.get(name);
  return snapshot.issuers.get(`${testNamespace}/${name}`) ?? snapshot.issuers.get(`${rootNamespace}/${name}`);
}
