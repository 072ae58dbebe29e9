/**
 * The denials the HTTP listener gives before (or instead of) a decision. Each is built
 * once: nothing of the request is in it, so it is the same bytes every time.
 */
import { descriptionOf, kindOf } from '../reasons.js';
import { buildDenyPlan } from '../respond/build-deny.js';
import type { DeniedPlan } from '../respond/plan.js';
import { internalErrorPlan } from '../respond/request-refusals.js';

export type HttpRefusal = 'unknown_endpoint' | 'missing_original_uri' | 'conflicting_original_request' | 'identity_header_alias' | 'headers_too_large' | 'body_too_large' | 'malformed_request' | 'internal_error';

const STATUS: Partial<Record<HttpRefusal, 404 | 413 | 431>> = { unknown_endpoint: 404, headers_too_large: 431, body_too_large: 413 };

const PLANS = new Map<HttpRefusal, DeniedPlan>();

export function httpRefusalPlan(refusal: HttpRefusal): DeniedPlan {
  let plan = PLANS.get(refusal);
  if (!plan) {
    plan = refusal === 'internal_error' ? internalErrorPlan('') : refused(refusal);
    PLANS.set(refusal, plan);
  }
  return plan;
}

function refused(reason: Exclude<HttpRefusal, 'internal_error'>): DeniedPlan {
  const httpStatus = STATUS[reason];
  const description = reason === 'malformed_request' ? 'malformed HTTP request' : descriptionOf(reason);
  return buildDenyPlan({ allow: false, kind: kindOf(reason), reason, description, steps: [] }, { host: '', requestId: '', ...(httpStatus ? { httpStatus } : {}) });
}
