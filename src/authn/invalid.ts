/** Verification failures, from the one table of reasons (src/reasons.ts): coarse, value-free descriptions. */
import { descriptionOf, type TokenFailureReason } from '../reasons.js';
import type { VerifyFailure } from './types.js';

export type InvalidReason = Exclude<TokenFailureReason, 'keys_unavailable' | 'introspection_unavailable'>;

export function invalid(reason: InvalidReason): VerifyFailure {
  return { ok: false, status: 'invalid', reason, description: descriptionOf(reason) };
}

/** One frozen value: a Check that cannot get keys allocates nothing to say so. */
export const KEYS_UNAVAILABLE: VerifyFailure = Object.freeze({ ok: false, status: 'unavailable', reason: 'keys_unavailable', description: descriptionOf('keys_unavailable') });

/** The introspection endpoint could not answer in time (or at all): fail closed with a 503. */
export const INTROSPECTION_UNAVAILABLE: VerifyFailure = Object.freeze({ ok: false, status: 'unavailable', reason: 'introspection_unavailable', description: descriptionOf('introspection_unavailable') });
