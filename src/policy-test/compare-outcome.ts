/** What a case observed, compared with what it expects; the differences are the FAIL message. */
import type { OfflineOutcome, OfflineRequest } from '../commands/offline-decision.js';
import type { Expectation } from './types.js';

export interface Observed {
  decision: 'allow' | 'deny';
  /** HTTP status of a denial */
  status?: number;
  /** the decision's reason code, e.g. missing_token, token_revoked, allowed, anonymous */
  reason: string;
  /** the deny body's `error`, e.g. unauthorized, invalid_token, insufficient_scope */
  error?: string;
  /** allow: the headers the upstream gets; deny: the response headers */
  headers: Map<string, string>;
}

export function observe(outcome: OfflineOutcome, sent: OfflineRequest): Observed {
  const { plan, decision } = outcome;
  if (plan.kind === 'denied') {
    const body = JSON.parse(plan.body) as { error?: string };
    const o: Observed = { decision: 'deny', status: plan.httpStatus, reason: decision.reason, headers: new Map(plan.headers.map((h) => [h.name, h.value])) };
    if (typeof body.error === 'string') o.error = body.error;
    return o;
  }
  // As Envoy applies an OkHttpResponse: the request's headers, minus the removals, plus the headers set.
  const upstream = new Map<string, string>();
  for (const [name, values] of sent.headers) upstream.set(name, values.join(', '));
  for (const name of plan.headersToRemove) upstream.delete(name);
  for (const h of plan.headersToSet) upstream.set(h.name, h.value);
  return { decision: 'allow', reason: decision.reason, headers: upstream };
}

/** Empty when the case passes. */
export function differences(expect: Expectation, got: Observed): string[] {
  const out: string[] = [];
  const reasonOk = expect.reason === undefined || expect.reason === got.reason || expect.reason === got.error;
  if (expect.decision !== got.decision || (expect.status !== undefined && expect.status !== got.status) || !reasonOk) {
    out.push(`expected ${describeExpected(expect)}, got ${describeObserved(got)}`);
  }
  for (const [name, want] of expect.headers ?? []) {
    const have = got.headers.get(name);
    if (want === null && have === undefined) continue;
    if (want === have) continue;
    const wanted = want === null ? `no ${name}` : `${name}: ${want}`;
    out.push(`expected ${wanted}, got ${have === undefined ? `no ${name}` : `${name}: ${have}`}`);
  }
  return out;
}

export function describeExpected(e: Expectation): string {
  return [e.decision, e.status, e.reason].filter((p) => p !== undefined).join(' ');
}

export function describeObserved(o: Observed): string {
  if (o.decision === 'allow') return `allow (${o.reason})`;
  const why = o.error === undefined || o.error === o.reason ? o.reason : `${o.reason} (${o.error})`;
  return `deny ${o.status} ${why}`;
}
