/**
 * A response plan as an HTTP answer. Allowed: 200 with the identity headers, and
 * `x-envoy-auth-headers-to-remove` naming the headers Envoy must take off the upstream
 * request (the spoofable names this answer does not set). Denied: the plan's status,
 * headers and JSON body, exactly as the gRPC answer carries them for Envoy to send.
 */
import type { ServerResponse } from 'node:http';
import type { DeniedPlan, OkPlan, ResponsePlan } from '../respond/plan.js';

/** Envoy's HTTP ext_authz client reads this header of an OK answer (docs/http-authz.md). */
export const HEADERS_TO_REMOVE = 'x-envoy-auth-headers-to-remove';

/**
 * Envoy's HTTP client counts any 5xx as a failure of the authorization service, which
 * `failure_mode_allow` (Istio and Envoy Gateway `failOpen`) turns into an allow. So on
 * /ext-authz claimcheck's own 503 denials (keys unavailable, not ready, internal error)
 * are sent as 403, with the same temporarily_unavailable body: denied whatever the
 * filter's failure mode. Forward-auth proxies deny on any non-2xx and keep the 503.
 */
export type FiveXx = 'as-is' | 'as-403';

export function writeAnswer(res: ServerResponse, plan: ResponsePlan, fiveXx: FiveXx): void {
  if (plan.kind === 'ok') writeOk(res, plan);
  else writeDenied(res, plan, false, fiveXx);
}

function writeOk(res: ServerResponse, plan: OkPlan): void {
  res.writeHead(200, okHeaders(plan));
  res.end();
}

/** The headers of an OK answer, flat: [name, value, …] as ServerResponse#writeHead takes them. */
export function okHeaders(plan: OkPlan): string[] {
  const flat: string[] = [];
  for (const h of plan.headersToSet) flat.push(h.name, h.value);
  if (plan.headersToRemove.length > 0) flat.push(HEADERS_TO_REMOVE, plan.headersToRemove.join(', '));
  flat.push('content-length', '0');
  return flat;
}

export function writeDenied(res: ServerResponse, plan: DeniedPlan, close = false, fiveXx: FiveXx = 'as-is'): void {
  const flat: string[] = [];
  for (const h of plan.headers) flat.push(h.name, h.value);
  flat.push('content-length', String(Buffer.byteLength(plan.body)));
  if (close) flat.push('connection', 'close');
  res.writeHead(fiveXx === 'as-403' && plan.httpStatus >= 500 ? 403 : plan.httpStatus, flat);
  res.end(plan.body);
}
