/** Rules for what may be placed in an HTTP header value or a challenge quoted-string. */

/** Visible ASCII and space only: no control characters (CR/LF/NUL injection) and no non-ASCII. */
export function isSafeHeaderValue(v: string): boolean {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

/**
 * RFC 6750 §3: error_description is %x20-21 / %x23-5B / %x5D-7E — no `"`, no `\`,
 * no controls, no non-ASCII. Applied to every quoted value we put in a challenge.
 */
export function quotedSafe(v: string, max = 200): string {
  let out = '';
  for (let i = 0; i < v.length && out.length < max; i++) {
    const c = v.charCodeAt(i);
    if (c >= 0x20 && c <= 0x7e && c !== 0x22 && c !== 0x5c) out += v[i];
  }
  return out;
}

/** RFC 6750 §3 scope-token: %x21 / %x23-5B / %x5D-7E (no space: space separates tokens). */
export function scopeTokenSafe(v: string): string {
  let out = '';
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c >= 0x21 && c <= 0x7e && c !== 0x22 && c !== 0x5c) out += v[i];
  }
  return out;
}
