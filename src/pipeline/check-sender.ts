/**
 * Sender-constrained tokens, after the token verified (docs/sender-constrained.md):
 * a token bound to a key (`cnf.jkt`) needs the DPoP scheme and a valid proof of that key
 * (RFC 9449 §7.1); one bound to a certificate (`cnf["x5t#S256"]`) the client's certificate
 * (RFC 8705 §3), from Envoy or x-forwarded-client-cert; a token bound both ways, both;
 * `required: true` refuses tokens bound to nothing. Never a bound token as a bearer token.
 */
import type { AuthRequest } from '../request.js';
import type { CompiledSenderConstraint } from '../compile/snapshot.js';
import type { DpopChallenge, Verified } from '../decision.js';
import type { DenyReason } from '../reasons.js';
import { accessTokenHash, checkDpopProof, PROOF_FUTURE_SEC } from '../authn/dpop-proof.js';
import { DpopNonces } from '../authn/dpop-nonce.js';
import { MemoryReplayStore, proofId, type ReplayStore } from '../authn/replay-store.js';
import { then, type MaybePromise } from '../maybe-async.js';
import { thumbprintOfPem, thumbprintOfXfcc } from '../authn/certificate-thumbprint.js';

export interface SenderContext {
  nonces: DpopNonces;
  replay: ReplayStore;
}

export type SenderOutcome = { ok: true } | { ok: false; reason: DenyReason; dpop?: DpopChallenge };

const OK: SenderOutcome = Object.freeze({ ok: true });

let processDefault: SenderContext | undefined;

/** For deciding without a server (`claimcheck check`, policy tests): this process's own nonces and memory store. */
export function defaultSenderContext(): SenderContext {
  return (processDefault ??= { nonces: new DpopNonces(undefined), replay: new MemoryReplayStore() });
}

/** the credential as the request presented it: `dpop` when sent as `Authorization: DPoP` */
export type PresentedToken = Readonly<{ token: string; dpop?: true }>;

export function checkSender(
  req: AuthRequest,
  presented: PresentedToken,
  verified: Verified,
  sc: CompiledSenderConstraint,
  path: string,
  nowSec: number,
  sender: SenderContext,
): MaybePromise<SenderOutcome> {
  const cnf = verified.claims.cnf;
  // the usual bearer token: nothing to check, nothing to allocate
  if (cnf === undefined && !presented.dpop && !sc.required) return OK;
  const challenge: DpopChallenge = { algorithms: sc.dpop.algorithms };
  const bound = typeof cnf === 'object' && cnf !== null && !Array.isArray(cnf) ? (cnf as Record<string, unknown>) : undefined;
  // RFC 7800 §3: a confirmation claimcheck cannot check (cnf.jwk, cnf.kid, ...) is never ignored
  if (cnf !== undefined && !(bound && (Object.hasOwn(bound, 'jkt') || Object.hasOwn(bound, 'x5t#S256')))) return { ok: false, reason: 'unsupported_binding' };
  if (bound && Object.hasOwn(bound, 'x5t#S256')) {
    const refused = checkCertificate(req, bound['x5t#S256'], sc);
    if (refused) return refused;
  }
  const jkt = bound?.jkt;
  if (jkt !== undefined && typeof jkt !== 'string') return { ok: false, reason: 'unsupported_binding' };
  if (typeof jkt !== 'string') {
    if (presented.dpop) return { ok: false, reason: 'dpop_token_not_bound', dpop: challenge };
    if (bound === undefined && sc.required) return { ok: false, reason: 'token_not_sender_constrained', dpop: { ...challenge, alsoBearer: true } };
    return OK;
  }
  if (!presented.dpop) return { ok: false, reason: 'dpop_token_as_bearer', dpop: challenge };
  const proofs = req.headers.get('dpop') ?? [];
  if (proofs.length === 0) return { ok: false, reason: 'dpop_proof_missing', dpop: challenge };
  // two headers, or two joined with a comma by Envoy (a compact JWS never holds one)
  if (proofs.length > 1 || proofs[0]!.includes(',')) return { ok: false, reason: 'dpop_proof_multiple' };
  const origin = sc.dpop.origin || originOf(req);
  if (origin === undefined) return { ok: false, reason: 'dpop_proof_htu', dpop: challenge };
  const r = checkDpopProof(proofs[0]!.trim(), {
    method: req.method,
    htu: origin + path,
    ath: athOf(verified, presented.token),
    jkt,
    algorithms: sc.dpop.algorithms,
    maxAgeSec: sc.dpop.proofMaxAgeSec,
    nowSec,
  });
  if (!r.ok) return { ok: false, reason: r.reason, dpop: challenge };
  if (sc.dpop.nonce) {
    const n = sender.nonces.check(r.nonce);
    if (n !== 'ok') return { ok: false, reason: n === 'missing' ? 'dpop_nonce_missing' : 'dpop_nonce_stale', dpop: { ...challenge, nonce: sender.nonces.current() } };
  }
  const ttlMs = (sc.dpop.proofMaxAgeSec + PROOF_FUTURE_SEC) * 1000;
  return then(sender.replay.claim(proofId(jkt, r.jti), ttlMs), (v): SenderOutcome => {
    if (v === 'first') return OK;
    if (v === 'replayed') return { ok: false, reason: 'dpop_proof_replayed', dpop: challenge };
    return { ok: false, reason: 'replay_store_unavailable' };
  });
}

/**
 * A repeated token brings the claims object the token cache parsed it into; its `ath` is kept
 * beside it, with the token it was computed from, so a proof costs no hash of the token.
 */
const athByClaims = new WeakMap<object, { token: string; ath: string }>();

function athOf(verified: Verified, token: string): string {
  const known = athByClaims.get(verified.claims);
  if (known !== undefined && known.token === token) return known.ath;
  const ath = accessTokenHash(token);
  athByClaims.set(verified.claims, { token, ath });
  return ath;
}

/** RFC 8705 §3: the client certificate's thumbprint equals the token's `cnf["x5t#S256"]`. */
function checkCertificate(req: AuthRequest, x5t: unknown, sc: CompiledSenderConstraint): SenderOutcome | undefined {
  const xfcc = req.headers.get('x-forwarded-client-cert');
  const presented = sc.mtlsCertificate === 'xfcc' ? (xfcc ? thumbprintOfXfcc(xfcc) : undefined) : req.source.certificate !== undefined ? thumbprintOfPem(req.source.certificate) : undefined;
  if (presented === undefined) return { ok: false, reason: 'certificate_missing' };
  return typeof x5t === 'string' && presented === x5t ? undefined : { ok: false, reason: 'certificate_mismatch' };
}

/** The request's scheme://host as its client addressed it: Envoy's scheme and :authority, or forward auth's X-Forwarded-*. */
function originOf(req: AuthRequest): string | undefined {
  const scheme = req.scheme.toLowerCase();
  if ((scheme !== 'https' && scheme !== 'http') || req.host === '') return undefined;
  return `${scheme}://${req.host}`;
}
