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

export function writeAnswer(res: ServerResponse, plan: ResponsePlan): void {
  if (plan.kind === 'ok') writeOk(res, plan);
  else writeDenied(res, plan);
}

function writeOk(res: ServerResponse, plan: OkPlan): void {
  const flat: string[] = [];
  for (const h of plan.headersToSet) flat.push(h.name, h.value);
  if (plan.headersToRemove.length > 0) flat.push(HEADERS_TO_REMOVE, plan.headersToRemove.join(', '));
  flat.push('content-length', '0');
  res.writeHead(200, flat);
  res.end();
}

export function writeDenied(res: ServerResponse, plan: DeniedPlan, close = false): void {
  const flat: string[] = [];
  for (const h of plan.headers) flat.push(h.name, h.value);
  flat.push('content-length', String(Buffer.byteLength(plan.body)));
  if (close) flat.push('connection', 'close');
  res.writeHead(plan.httpStatus, flat);
  res.end(plan.body);
}
