/** The strict parse can fail: each mutation of a shipped document is caught with the expected issue. */
import assert from 'node:assert/strict';
import { formatIssues, type StrictProtoJson } from './strict-proto-json.js';

export type Mutation = [what: string, mutate: (doc: any) => void, message: RegExp];

export function assertMutationsCaught(proto: StrictProtoJson, doc: unknown, type: string, cases: readonly Mutation[]): void {
  for (const [what, mutate, message] of cases) {
    const copy = structuredClone(doc);
    mutate(copy);
    const issues = formatIssues(proto.validate(copy, type));
    assert.match(issues, message, `${what}: ${issues || 'no issue found'}`);
  }
}
