/** Deny responses per docs/responses.md and RFC 6750 §3 (WWW-Authenticate: Bearer). */
import type { Deny, DenyKind } from '../decision.js';
import type { DeniedPlan, HeaderToSet } from './plan.js';
import { quotedSafe, scopeTokenSafe } from './header-value.js';

// google.rpc.Code values; the CheckResponse status is never left unset.
const GRPC_INVALID_ARGUMENT = 3;
const GRPC_PERMISSION_DENIED = 7;
const GRPC_UNAVAILABLE = 14;
const GRPC_UNAUTHENTICATED = 16;

const STATUS: Record<DenyKind, { grpc: number; http: number; fallback: string }> = {
  invalid_request: { grpc: GRPC_INVALID_ARGUMENT, http: 400, fallback: 'malformed request' },
  unauthorized: { grpc: GRPC_UNAUTHENTICATED, http: 401, fallback: 'authentication required' },
  invalid_token: { grpc: GRPC_UNAUTHENTICATED, http: 401, fallback: 'invalid token' },
  insufficient_scope: { grpc: GRPC_PERMISSION_DENIED, http: 403, fallback: 'insufficient scope' },
  access_denied: { grpc: GRPC_PERMISSION_DENIED, http: 403, fallback: 'access denied' },
  temporarily_unavailable: { grpc: GRPC_UNAVAILABLE, http: 503, fallback: 'temporarily unavailable' },
};

export interface DenyContext {
  /** normalised host, used as the challenge realm */
  host: string;
  requestId: string;
}

function challenge(d: Deny, host: string, description: string): string | undefined {
  const realm = `realm="${quotedSafe(host)}"`;
  const desc = `error_description="${quotedSafe(description)}"`;
  switch (d.kind) {
    case 'invalid_request':
      return `Bearer error="invalid_request", ${desc}`;
    case 'unauthorized':
      // RFC 6750 §3.1: no error code when the request carried no credentials.
      return `Bearer ${realm}`;
    case 'invalid_token':
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
  const www = challenge({ ...d, kind }, ctx.host, description);
  if (www !== undefined) headers.push({ name: 'www-authenticate', value: www });
  const body = JSON.stringify({ error: kind, error_description: description, request_id: ctx.requestId });
  return { kind: 'denied', grpcCode: s.grpc, httpStatus: s.http, headers, body };
}
