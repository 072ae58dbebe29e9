/**
 * Authorization/Check from request bytes to response bytes, for either transport. Decoding
 * and encoding happen here, inside the method, so whatever goes wrong becomes a denial
 * CheckResponse and never an RPC error, which Envoy with failure_mode_allow (Istio
 * failOpen) lets through. wire/ goes straight between bytes and the domain types:
 * protobuf object trees cost ~16% of a Check's CPU.
 */
import { ClaimcheckError } from '../errors.js';
import { isPromise, type MaybePromise } from '../maybe-async.js';
import type { AuthRequest } from '../request.js';
import type { ResponsePlan } from '../respond/plan.js';
import { internalErrorPlan, REQUEST_REFUSALS, requestRefusalPlan, type RequestRefusal } from '../respond/request-refusals.js';
import { decodeCheckRequest } from './wire/decode-check-request.js';
import { encodeCheckResponse } from './wire/encode-check-response.js';

export interface CheckMethodOptions {
  check: (req: AuthRequest) => MaybePromise<ResponsePlan>;
  onInternalError?: (err: unknown) => void;
  /** a request refused before a decision: undecodable (the transport reports the others) */
  onRefused?: (refusal: RequestRefusal, err?: unknown) => void;
}

export interface CheckMethod {
  kind: 'unary';
  /** always a CheckResponse */
  handle(request: Buffer): MaybePromise<{ message: Buffer }>;
  /** the denial for a request refused before it was decoded */
  refuse(refusal: RequestRefusal): Buffer;
}

// Encoded once: a fixed plan cannot fail to encode later, so a failed encode always has an answer.
const INTERNAL_ERROR = encodeCheckResponse(internalErrorPlan(''));
const REFUSED = new Map(REQUEST_REFUSALS.map((r) => [r, encodeCheckResponse(requestRefusalPlan(r))]));

export function createCheckMethod(opts: CheckMethodOptions): CheckMethod {
  const report = (fn: (() => void) | undefined) => {
    try {
      fn?.();
    } catch {
      // a failing reporter must not turn a denial into an RPC error
    }
  };
  const refuse = (refusal: RequestRefusal) => REFUSED.get(refusal)!;

  const internalError = (err: unknown, requestId: string): Buffer => {
    report(() => opts.onInternalError?.(err));
    if (requestId === '') return INTERNAL_ERROR;
    try {
      return encodeCheckResponse(internalErrorPlan(requestId));
    } catch {
      return INTERNAL_ERROR;
    }
  };

  const send = (plan: ResponsePlan, requestId: string): { message: Buffer } => {
    try {
      return { message: encodeCheckResponse(plan) };
    } catch (err) {
      return { message: internalError(err, requestId) };
    }
  };

  // A cached token is answered in the same tick (maybe-async.ts); a miss when the check settles.
  const handle = (request: Buffer): MaybePromise<{ message: Buffer }> => {
    let req: AuthRequest;
    try {
      req = decodeCheckRequest(request);
    } catch (err) {
      if (!(err instanceof ClaimcheckError && err.code === 'invalid_request_proto')) return { message: internalError(err, '') };
      report(() => opts.onRefused?.('malformed_request', err));
      return { message: refuse('malformed_request') };
    }
    let plan: MaybePromise<ResponsePlan>;
    try {
      plan = opts.check(req);
    } catch (err) {
      return { message: internalError(err, req.requestId) };
    }
    if (!isPromise(plan)) return send(plan, req.requestId);
    return plan.then(
      (p) => send(p, req.requestId),
      (err: unknown) => ({ message: internalError(err, req.requestId) }),
    );
  };

  return { kind: 'unary', handle, refuse };
}
