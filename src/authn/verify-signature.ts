/**
 * JWS signature verification (RFC 7515 §5.2 step 8) on node:crypto one-shot primitives.
 *
 * Keys are still imported and validated by jose (keys/prepared-key.ts); only the per-request
 * check runs here, because WebCrypto's per-call overhead (algorithm normalisation, a promise per
 * job) cost ~3x the RSA operation itself (docs/performance.md). Everything that makes a
 * signature check safe is explicit below and covered by test/unit/verify-signature.test.ts.
 */
import { constants, createHmac, createSecretKey, KeyObject, timingSafeEqual, verify as cryptoVerify } from 'node:crypto';
import type { VerificationKey } from './types.js';

type Rule =
  | { kind: 'rsa'; hash: string; pss: boolean }
  | { kind: 'ec'; hash: string; curve: string; sigBytes: number }
  | { kind: 'ed25519' }
  | { kind: 'hmac'; hash: string; minBytes: number };

/** RFC 7518 §3.1 and RFC 8037 §3.1; anything else never verifies. */
const RULES: Readonly<Record<string, Rule>> = {
  RS256: { kind: 'rsa', hash: 'sha256', pss: false },
  RS384: { kind: 'rsa', hash: 'sha384', pss: false },
  RS512: { kind: 'rsa', hash: 'sha512', pss: false },
  PS256: { kind: 'rsa', hash: 'sha256', pss: true },
  PS384: { kind: 'rsa', hash: 'sha384', pss: true },
  PS512: { kind: 'rsa', hash: 'sha512', pss: true },
  // RFC 7518 §3.4: R and S as fixed-length big-endian octets, concatenated (not DER).
  ES256: { kind: 'ec', hash: 'sha256', curve: 'prime256v1', sigBytes: 64 },
  ES384: { kind: 'ec', hash: 'sha384', curve: 'secp384r1', sigBytes: 96 },
  ES512: { kind: 'ec', hash: 'sha512', curve: 'secp521r1', sigBytes: 132 },
  EdDSA: { kind: 'ed25519' },
  Ed25519: { kind: 'ed25519' },
  // RFC 7518 §3.2: a key at least as long as the hash output.
  HS256: { kind: 'hmac', hash: 'sha256', minBytes: 32 },
  HS384: { kind: 'hmac', hash: 'sha384', minBytes: 48 },
  HS512: { kind: 'hmac', hash: 'sha512', minBytes: 64 },
};

const HASH_BYTES: Readonly<Record<string, number>> = { sha256: 32, sha384: 48, sha512: 64 };

type Check = (data: Buffer, sig: Buffer) => boolean;

const NEVER: Check = () => false;

/** Per key object, per alg: the check, built once (key type and size are inspected at most once). */
const checks = new WeakMap<object, Map<string, Check>>();

/**
 * Whether `token` (a compact JWS already passed by parseCompactJws) carries a valid `alg`
 * signature by `key`. Never throws; a key of the wrong type or size for `alg` is `false`.
 */
export function verifySignature(token: string, key: VerificationKey, alg: string): boolean {
  const lastDot = token.lastIndexOf('.');
  if (lastDot <= 0 || token.indexOf('.') === lastDot) return false;
  // The signing input is the ASCII of header.payload (RFC 7515 §5.1 step 5), exactly as sent.
  const data = Buffer.from(token.slice(0, lastDot), 'latin1');
  const sig = Buffer.from(token.slice(lastDot + 1), 'base64url');
  try {
    return checkFor(key, alg)(data, sig);
  } catch {
    return false;
  }
}

function checkFor(key: VerificationKey, alg: string): Check {
  let perAlg = checks.get(key);
  if (!perAlg) {
    perAlg = new Map();
    checks.set(key, perAlg);
  }
  let check = perAlg.get(alg);
  if (!check) {
    check = buildCheck(toKeyObject(key), RULES[alg]);
    perAlg.set(alg, check);
  }
  return check;
}

function toKeyObject(key: VerificationKey): KeyObject | undefined {
  try {
    if (key instanceof KeyObject) return key;
    if (key instanceof Uint8Array) return createSecretKey(key);
    return KeyObject.from(key);
  } catch {
    return undefined;
  }
}

/*
 * crypto.verify is called synchronously on purpose. The callback form queues each check on
 * libuv's thread pool: with one core per process (--workers defaults to the CPU count; a
 * sidecar's CPU limit), the pool's threads only compete with the event loop, and the
 * hand-offs cost more than the RSA operation (docs/performance.md: 2-3x the CPU per new
 * token with 32 calls in flight on one core).
 */
function buildCheck(key: KeyObject | undefined, rule: Rule | undefined): Check {
  if (!key || !rule) return NEVER;
  switch (rule.kind) {
    case 'rsa': {
      // A public RSA key of at least 2048 bits (RFC 7518 §3.3), never a private or secret key.
      const t = key.asymmetricKeyType;
      const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
      if (key.type !== 'public' || (t !== 'rsa' && t !== 'rsa-pss') || bits < 2048) return NEVER;
      const k = Math.ceil(bits / 8);
      const opts = rule.pss
        ? // RFC 7518 §3.5: the salt is as long as the digest; MGF1 uses the same hash.
          { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: HASH_BYTES[rule.hash]! }
        : { key, padding: constants.RSA_PKCS1_PADDING };
      // RFC 8017 §8.2.2 / §8.1.2 step 1: a signature is exactly k octets.
      return (data, sig) => sig.length === k && cryptoVerify(rule.hash, data, opts, sig);
    }
    case 'ec': {
      if (key.type !== 'public' || key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== rule.curve) return NEVER;
      // Handed over as DER: node's ieee-p1363 conversion cost ~5 µs of a ~55 µs P-256 check.
      return (data, sig) => sig.length === rule.sigBytes && cryptoVerify(rule.hash, data, key, p1363ToDer(sig));
    }
    case 'ed25519': {
      if (key.type !== 'public' || key.asymmetricKeyType !== 'ed25519') return NEVER;
      return (data, sig) => sig.length === 64 && cryptoVerify(null, data, key, sig);
    }
    case 'hmac': {
      if (key.type !== 'secret' || (key.symmetricKeySize ?? 0) < rule.minBytes) return NEVER;
      const size = HASH_BYTES[rule.hash]!;
      return (data, sig) => {
        if (sig.length !== size) return false;
        // Constant-time comparison: a byte-by-byte early exit would leak the MAC.
        return timingSafeEqual(createHmac(rule.hash, key).update(data).digest(), sig);
      };
    }
  }
}

/** RFC 7518 §3.4 R||S as the DER ECDSA-Sig-Value (RFC 3279 §2.2.3): two minimal, non-negative INTEGERs. */
export function p1363ToDer(sig: Buffer): Buffer {
  const half = sig.length / 2;
  const r = derInteger(sig.subarray(0, half));
  const s = derInteger(sig.subarray(half));
  const body = r.length + s.length;
  // a P-521 signature's body passes 127 bytes: the length takes two bytes then
  const head = body < 128 ? Buffer.from([0x30, body]) : Buffer.from([0x30, 0x81, body]);
  return Buffer.concat([head, r, s], head.length + body);
}

function derInteger(v: Buffer): Buffer {
  let i = 0;
  while (i < v.length - 1 && v[i] === 0) i++;
  const bytes = v.subarray(i);
  const pad = bytes[0]! & 0x80 ? 1 : 0;
  const out = Buffer.allocUnsafe(2 + pad + bytes.length);
  out[0] = 0x02;
  out[1] = pad + bytes.length;
  if (pad) out[2] = 0;
  bytes.copy(out, 2 + pad);
  return out;
}
