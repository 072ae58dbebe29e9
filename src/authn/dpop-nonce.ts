/**
 * DPoP nonces (RFC 9449 §8) without state: a nonce names a 5-minute window and carries an
 * HMAC of it under a secret every replica shares (`--dpop-nonce-secret-file`), so any
 * replica accepts any replica's nonce. One is accepted in its own window and the next, so a
 * nonce lives 5 to 10 minutes; `DPoP-Nonce` always hands out the current window's.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const NONCE_WINDOW_SEC = 300;
/** the contract's lower bound on the secret's length */
export const MIN_NONCE_SECRET_BYTES = 32;
const MAC_BYTES = 16;
const LABEL = 'claimcheck dpop nonce v1';

export type NonceCheck = 'ok' | 'missing' | 'stale';

export class DpopNonces {
  private readonly secret: Buffer;

  /** `secret`: at least 32 bytes; without one, a random secret for this process alone */
  constructor(secret: Uint8Array | undefined, private readonly nowMs: () => number = Date.now) {
    if (secret !== undefined && secret.length < MIN_NONCE_SECRET_BYTES) throw new RangeError(`the DPoP nonce secret needs at least ${MIN_NONCE_SECRET_BYTES} bytes`);
    this.secret = Buffer.from(secret ?? randomBytes(MIN_NONCE_SECRET_BYTES));
  }

  /** The nonce to send in `DPoP-Nonce`: the current window's. */
  current(): string {
    return this.nonceFor(this.window());
  }

  check(nonce: string | undefined): NonceCheck {
    if (nonce === undefined) return 'missing';
    const now = this.window();
    const raw = Buffer.from(nonce, 'base64url');
    // 6 bytes of window (48 bits: any Unix time in seconds / 300) and the MAC
    if (raw.length !== 6 + MAC_BYTES || raw.toString('base64url') !== nonce) return 'stale';
    const window = raw.readUIntBE(0, 6);
    if (window !== now && window !== now - 1) return 'stale';
    return timingSafeEqual(raw.subarray(6), this.mac(window)) ? 'ok' : 'stale';
  }

  private window(): number {
    return Math.floor(this.nowMs() / 1000 / NONCE_WINDOW_SEC);
  }

  private nonceFor(window: number): string {
    const head = Buffer.alloc(6);
    head.writeUIntBE(window, 0, 6);
    return Buffer.concat([head, this.mac(window)]).toString('base64url');
  }

  private mac(window: number): Buffer {
    return createHmac('sha256', this.secret).update(`${LABEL}\0${window}`).digest().subarray(0, MAC_BYTES);
  }
}

/** The secret file's bytes, a trailing newline not part of them (as for HMAC key files, docs/keys.md). */
export function nonceSecretFrom(file: Uint8Array): Uint8Array {
  let end = file.length;
  if (end > 0 && file[end - 1] === 0x0a) end--;
  if (end > 0 && file[end - 1] === 0x0d) end--;
  return file.subarray(0, end);
}
