/** PolicyTest YAML → validated test documents, every problem with file:line. Never throws. */
import { dirname, resolve } from 'node:path';
import type { ConfigProblem } from '../errors.js';
import { tryParseDuration } from '../model/duration.js';
import { nodeAt, yamlMappings, type YamlMapping } from '../model/parse-manifests.js';
import { API_GROUP, POLICY_TEST_KIND } from '../model/types.js';
import { compileSchemaCheck, type SchemaIssue } from '../model/validate-resource.js';
import { policyTestSchema } from './policy-test-schema.js';
import type { Expectation, PolicyTest, TestCase, TestRequest, TokenSpec } from './types.js';

export const DEFAULT_LIFETIME = '5m';

export interface ParsedPolicyTests {
  tests: PolicyTest[];
  problems: ConfigProblem[];
}

let check: ((obj: Record<string, unknown>) => SchemaIssue[]) | undefined;

/** A PolicyTest document, or one that means to be (kind PolicyTest, any claimcheck.io version or none). */
export function isPolicyTestDocument(obj: Record<string, unknown>): boolean {
  const av = obj.apiVersion;
  return obj.kind === POLICY_TEST_KIND && (av === undefined || (typeof av === 'string' && (av === API_GROUP || av.startsWith(`${API_GROUP}/`))));
}

/** The PolicyTest documents of one file; other documents (the configuration itself) are skipped. */
export function parsePolicyTests(text: string, file: string): ParsedPolicyTests {
  const tests: PolicyTest[] = [];
  const problems: ConfigProblem[] = [];
  for (const m of yamlMappings(text, file, problems)) {
    if (!isPolicyTestDocument(m.value)) continue;
    check ??= compileSchemaCheck(policyTestSchema);
    const issues = check(m.value);
    const lineAt = (pointer: (string | number)[]): number => m.lineOf(nodeAt(m.doc, pointer)?.range?.[0]) || m.line;
    if (issues.length > 0) {
      for (const { problem, pointer } of issues) problems.push({ ...problem, file, line: lineAt(pointer) });
      continue;
    }
    const before = problems.length;
    const test = toPolicyTest(m, file, (pointer, message) => problems.push({ kind: POLICY_TEST_KIND, file, line: lineAt(pointer), path: `/${pointer.join('/')}`, message }));
    if (problems.length === before) tests.push(test);
  }
  return { tests, problems };
}

type Report = (pointer: (string | number)[], message: string) => void;

interface CaseDoc {
  name: string;
  request: { host: string; path: string; method?: string; headers?: Record<string, string | string[]> };
  token?: { issuer: string; claims?: Record<string, unknown>; lifetime?: string; header?: Record<string, unknown> };
  raw?: string;
  expect: { decision: 'allow' | 'deny'; status?: number; reason?: string; headers?: Record<string, string | null> };
}

/** The checks a schema cannot say clearly; the document has passed the schema. */
function toPolicyTest(m: YamlMapping, file: string, report: Report): PolicyTest {
  const doc = m.value as { metadata?: { name?: string; namespace?: string }; spec: { config?: string; cases: CaseDoc[] } };
  const config = doc.spec.config ?? '.';
  const names = new Set<string>();
  const cases = doc.spec.cases.map((c, i): TestCase => {
    const at = (...rest: (string | number)[]) => ['spec', 'cases', i, ...rest];
    if (names.has(c.name)) report(at('name'), `duplicate case name ${JSON.stringify(c.name)}`);
    names.add(c.name);
    if (c.token && c.raw !== undefined) report(at('raw'), 'a case has either token (signed by the run) or raw (sent as it is), not both');
    if (c.expect.decision === 'allow' && c.expect.status !== undefined) report(at('expect', 'status'), 'expect.status is the HTTP status of a denial; an allowed request has none');
    if (c.token?.header && 'alg' in c.token.header) report(at('token', 'header', 'alg'), 'alg cannot be set: the run signs with a throwaway key of an algorithm the issuer allows');
    const tc: TestCase = { name: c.name, line: m.lineOf(nodeAt(m.doc, at())?.range?.[0]), request: toRequest(c.request), expect: toExpectation(c.expect) };
    if (c.token) tc.token = toTokenSpec(c.token, m.lineOf(nodeAt(m.doc, at('token', 'issuer'))?.range?.[0]));
    if (c.raw !== undefined) tc.raw = c.raw;
    return tc;
  });
  const test: PolicyTest = { file, line: m.line, config, configDir: resolve(dirname(file), config), cases };
  if (doc.metadata?.name !== undefined) test.name = doc.metadata.name;
  if (doc.metadata?.namespace !== undefined) test.namespace = doc.metadata.namespace;
  return test;
}

function toRequest(r: CaseDoc['request']): TestRequest {
  const headers = new Map<string, string[]>();
  for (const [name, value] of Object.entries(r.headers ?? {})) {
    const key = name.toLowerCase();
    headers.set(key, [...(headers.get(key) ?? []), ...(Array.isArray(value) ? value : [value])]);
  }
  return { host: r.host, path: r.path, method: (r.method ?? 'GET').toUpperCase(), headers };
}

function toTokenSpec(t: NonNullable<CaseDoc['token']>, line: number): TokenSpec {
  // the schema checked the format, so the duration parses
  const lifetimeSec = tryParseDuration(t.lifetime ?? DEFAULT_LIFETIME)! / 1000;
  return { issuer: t.issuer, claims: t.claims ?? {}, lifetimeSec, header: t.header ?? {}, line };
}

function toExpectation(e: CaseDoc['expect']): Expectation {
  const x: Expectation = { decision: e.decision };
  if (e.status !== undefined) x.status = e.status;
  if (e.reason !== undefined) x.reason = e.reason;
  if (e.headers) x.headers = new Map(Object.entries(e.headers).map(([k, v]) => [k.toLowerCase(), v]));
  return x;
}
