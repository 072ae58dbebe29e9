/** AuthPolicy.spec.senderConstraint and a rule's require.senderConstraint, compiled into one per rule. */
import { tryParseDuration } from '../model/duration.js';
import type { AuthPolicy, SenderConstraintSpec } from '../model/types.js';
import type { CompileContext } from './context.js';
import type { CompiledSenderConstraint } from './snapshot.js';

const MAX_PROOF_AGE_MS = 5 * 60_000;

const DEFAULTS = { algorithms: ['ES256', 'PS256', 'EdDSA'], proofMaxAge: '60s' };

/** What a policy without senderConstraint gets */
export const DEFAULT_SENDER_CONSTRAINT: CompiledSenderConstraint = Object.freeze({
  required: false,
  dpop: Object.freeze({ algorithms: Object.freeze([...DEFAULTS.algorithms]), proofMaxAgeSec: 60, nonce: false, origin: '' }),
  mtlsCertificate: 'envoy',
});

/** Problems of one spec, at its own path: the policy's or the rule's. */
export function checkSenderConstraint(r: AuthPolicy, spec: SenderConstraintSpec | undefined, path: string, ctx: CompileContext): void {
  const age = spec?.dpop?.proofMaxAge;
  if (age !== undefined) {
    const ms = tryParseDuration(age);
    if (ms === undefined || ms <= 0) ctx.problem(r, `${path}/dpop/proofMaxAge`, `proofMaxAge ${JSON.stringify(age)} is not a positive duration`);
    else if (ms > MAX_PROOF_AGE_MS) ctx.problem(r, `${path}/dpop/proofMaxAge`, `proofMaxAge ${age} is above the maximum of 5m`);
  }
  const origin = spec?.dpop?.origin;
  if (origin !== undefined && origin !== '' && originOf(origin) === undefined) {
    ctx.problem(r, `${path}/dpop/origin`, `${JSON.stringify(origin)} is not an http or https origin (scheme://host[:port])`);
  }
}

/** The rule's fields over the policy's; call after checkSenderConstraint found no problem. */
export function compileSenderConstraint(policy: SenderConstraintSpec | undefined, rule: SenderConstraintSpec | undefined, ctx: CompileContext): CompiledSenderConstraint {
  const dpop = { ...policy?.dpop, ...rule?.dpop };
  const merged = {
    required: rule?.required ?? policy?.required ?? false,
    algorithms: dpop.algorithms ?? DEFAULTS.algorithms,
    proofMaxAgeSec: (tryParseDuration(dpop.proofMaxAge ?? DEFAULTS.proofMaxAge) ?? 60_000) / 1000,
    nonce: dpop.nonce ?? false,
    origin: dpop.origin ? (originOf(dpop.origin) ?? '') : '',
    mtlsCertificate: rule?.mtls?.certificate ?? policy?.mtls?.certificate ?? 'envoy',
  };
  return ctx.share('senderConstraint', merged, () =>
    Object.freeze({
      required: merged.required,
      dpop: Object.freeze({ algorithms: Object.freeze([...merged.algorithms]), proofMaxAgeSec: merged.proofMaxAgeSec, nonce: merged.nonce, origin: merged.origin }),
      mtlsCertificate: merged.mtlsCertificate,
    }),
  );
}

/** scheme://host[:port], lowercase, without a default port; undefined when `text` has a path, query or credentials. */
function originOf(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password || url.search || url.hash) return undefined;
  if (url.pathname !== '/' || text.endsWith('/')) return undefined;
  return `${url.protocol}//${url.host}`;
}
