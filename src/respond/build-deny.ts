/** Deny responses per docs/responses.md and RFC 6750 §3 (WWW-Authenticate: Bearer). */
import type { Deny, DenyKind } from '../decision.js';
import { GrpcCode, type DenialCode } from '../grpc-code.js';
import type { DeniedPlan, HeaderToSet } from './plan.js';
import { quotedSafe, scopeTokenSafe } from './header-value.js';

// The CheckResponse status is never left unset: Envoy reads an unset one as an allow.
const STATUS: Record<DenyKind, { grpc: DenialCode; http: number; fallback: string }> = {
  invalid_request: { grpc: GrpcCode.INVALID_ARGUMENT, http: 400, fallback: 'malformed request' },
  unauthorized: { grpc: GrpcCode.UNAUTHENTICATED, http: 401, fallback: 'authentication required' },
  invalid_token: { grpc: GrpcCode.UNAUTHENTICATED, http: 401, fallback: 'invalid token' },
  invalid_dpop_proof: { grpc: GrpcCode.UNAUTHENTICATED, http: 401, fallback: 'invalid DPoP proof' },
  use_dpop_nonce: { grpc: GrpcCode.UNAUTHENTICATED, http: 401, fallback: 'DPoP nonce required' },
  insufficient_scope: { grpc: GrpcCode.PERMISSION_DENIED, http: 403, fallback: 'insufficient scope' },
  access_denied: { grpc: GrpcCode.PERMISSION_DENIED, http: 403, fallback: 'access denied' },
  temporarily_unavailable: { grpc: GrpcCode.UNAVAILABLE, http: 503, fallback: 'temporarily unavailable' },
};

export interface DenyContext {
  /** normalised host, used as the challenge realm */
  host: string;
  requestId: string;
  /** an invalid_request refused for its size (413, 431) or its endpoint (404) instead of 400 */
  httpStatus?: 404 | 413 | 431;
}

/** RFC 9449 §7.1: the DPoP scheme, with the accepted proof algorithms. */
function dpopChallenge(d: Deny, desc: string): string | undefined {
  const algs = `algs="${d.dpop!.algorithms.map(scopeTokenSafe).join(' ')}"`;
  // beside a Bearer challenge: only what DPoP would take
  if (d.dpop!.alsoBearer) return `DPoP ${algs}`;
  switch (d.kind) {
    case 'invalid_token':
    case 'invalid_dpop_proof':
      return `DPoP error="${d.kind}", ${desc}, ${algs}`;
    case 'use_dpop_nonce':
      return `DPoP error="use_dpop_nonce", ${desc}`;
    default:
      return undefined;
  }
}

function challenge(d: Deny, host: string, description: string): string | undefined {
  const realm = `realm="${quotedSafe(host)}"`;
  const desc = `error_description="${quotedSafe(description)}"`;
  if (d.dpop) {
    const dpop = dpopChallenge(d, desc);
    if (dpop !== undefined) return dpop;
  }
  switch (d.kind) {
    case 'invalid_request':
      return `Bearer error="invalid_request", ${desc}`;
    case 'unauthorized':
      // RFC 6750 §3.1: no error code when the request carried no credentials.
      return `Bearer ${realm}`;
    case 'invalid_token':
    // without the token's binding known, a proof problem is still a token problem
    case 'invalid_dpop_proof':
    case 'use_dpop_nonce':
      return `Bearer ${realm}, error="invalid_token", ${desc}`;
    case 'insufficient_scope': {
      const scope = (d.scope ?? []).map(scopeTokenSafe).filter((s) => s !== '').join(' ');
      return `Bearer ${realm}, error="insufficient_scope", scope="${scope}"`;
    }
    case 'access_denied':
    case 'temporarily_unavailable':
      return undefined;
  }
}

export function buildDenyPlan(d: Deny, ctx: DenyContext): DeniedPlan {
  const s = STATUS[d.kind] ?? STATUS.access_denied;
  const kind: DenyKind = STATUS[d.kind] ? d.kind : 'access_denied';
  const description = d.description || s.fallback;
  const headers: HeaderToSet[] = [
    { name: 'content-type', value: 'application/json' },
    { name: 'cache-control', value: 'no-store' },
  ];
  if (d.dpop?.alsoBearer) {
    const { dpop: _, ...bearer } = d;
    headers.push({ name: 'www-authenticate', value: challenge({ ...bearer, kind }, ctx.host, description)! });
  }
  const www = challenge({ ...d, kind }, ctx.host, description);
  if (www !== undefined) headers.push({ name: 'www-authenticate', value: www });
  if (kind === 'use_dpop_nonce' && d.dpop?.nonce !== undefined) headers.push({ name: 'dpop-nonce', value: d.dpop.nonce });
  const body = JSON.stringify({ error: kind, error_description: description, request_id: ctx.requestId });
  const httpStatus = kind === 'invalid_request' && ctx.httpStatus ? ctx.httpStatus : s.http;
  return { kind: 'denied', grpcCode: s.grpc, httpStatus, headers, body };
}
