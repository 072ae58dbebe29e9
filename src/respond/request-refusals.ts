/**
 * The denials given without a decision: claimcheck failed (503), or the request never
 * became a CheckRequest it could decide on. Each is a CheckResponse, never a gRPC error:
 * Envoy with failure_mode_allow (Istio failOpen) lets a request through on an RPC error.
 */
import type { DeniedPlan } from './plan.js';
import { buildDenyPlan } from './build-deny.js';
import { descriptionOf, kindOf } from '../reasons.js';

/** Anything that went wrong in claimcheck itself, or no configuration yet ('service not ready'). */
export function internalErrorPlan(requestId: string, host = '', description = 'internal error'): DeniedPlan {
  return buildDenyPlan({ allow: false, kind: 'temporarily_unavailable', reason: 'internal_error', description, steps: [] }, { host, requestId });
}

/**
 * Why a call's request message was refused before it was decided on. The request id is
 * unknown for all of them (nothing was decoded), so each denial is the same bytes every time.
 */
export type RequestRefusal = 'malformed_request' | 'request_too_large' | 'connection_busy';

export const REQUEST_REFUSALS: readonly RequestRefusal[] = ['malformed_request', 'request_too_large', 'connection_busy'];

/**
 * A stream whose request message is not complete at the deadline is reset, not denied: Envoy
 * has reset its own call long before (ext_authz timeout), so nobody is waiting for an answer.
 */
export type StreamRefusal = RequestRefusal | 'request_timeout';

/**
 * - too large: 413, as Envoy's own ext_authz filter answers a body over max_request_bytes
 *   when allow_partial_message is off; the message is gone, so the request is invalid.
 * - connection busy: 503, the connection holds too many request bytes at once; retryable.
 */
export function requestRefusalPlan(refusal: RequestRefusal): DeniedPlan {
  switch (refusal) {
    case 'malformed_request':
      return refused('malformed_request');
    case 'request_too_large':
      return refused('request_too_large', 413);
    case 'connection_busy':
      return internalErrorPlan('', '', descriptionOf('connection_busy'));
  }
}

function refused(reason: 'malformed_request' | 'request_too_large', httpStatus?: 413): DeniedPlan {
  return buildDenyPlan({ allow: false, kind: kindOf(reason), reason, description: descriptionOf(reason), steps: [] }, { host: '', requestId: '', ...(httpStatus ? { httpStatus } : {}) });
}
