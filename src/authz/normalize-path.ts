/**
 * Request-target normalisation before rule matching (docs/configuration.md "Path normalisation").
 * The goal is that one resource has one spelling: anything that could make a
 * rule see a different path than the upstream resolves (`..`, encoded
 * separators, backslashes, NUL) is refused rather than guessed at — the same
 * stance as Envoy's `normalize_path` + `merge_slashes` +
 * `path_with_escaped_slashes_action: REJECT_REQUEST`.
 */

export type NormalizeReason =
  | 'not_origin_form'
  | 'path_traversal'
  | 'encoded_slash'
  | 'encoded_backslash'
  | 'backslash'
  | 'nul'
  | 'control_character'
  | 'invalid_encoding';

export type NormalizedPath =
  | { ok: true; path: string; query: string }
  | { ok: false; reason: NormalizeReason };

// Anything that can need work: an escape, a backslash, a control char, `//`, or a `/.` segment start.
const NEEDS_WORK = /[%\\\x00-\x1f\x7f]|\/\/|\/\./;

// RFC 3986 §2.3 unreserved characters.
function isUnreserved(c: number): boolean {
  return (
    (c >= 0x41 && c <= 0x5a) || // A-Z
    (c >= 0x61 && c <= 0x7a) || // a-z
    (c >= 0x30 && c <= 0x39) || // 0-9
    c === 0x2d || c === 0x2e || c === 0x5f || c === 0x7e // - . _ ~
  );
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** Split the target at `?`/`#` and normalise the path part. Never throws. */
export function normalizePath(rawTarget: string): NormalizedPath {
  if (typeof rawTarget !== 'string' || rawTarget.charCodeAt(0) !== 0x2f) {
    // absolute-form (`http://h/p`), authority-form and `*` (OPTIONS *) never reach a rule:
    // Envoy converts absolute-form to origin-form, so anything else is not a real path.
    return { ok: false, reason: 'not_origin_form' };
  }
  let end = rawTarget.length;
  let query = '';
  const q = rawTarget.indexOf('?');
  const h = rawTarget.indexOf('#');
  if (h !== -1 && (q === -1 || h < q)) {
    end = h;
  } else if (q !== -1) {
    end = q;
    query = rawTarget.slice(q + 1, h === -1 ? rawTarget.length : h);
  }
  const raw = end === rawTarget.length ? rawTarget : rawTarget.slice(0, end);
  if (!NEEDS_WORK.test(raw)) return { ok: true, path: raw, query };

  const decoded = decode(raw);
  if (typeof decoded !== 'string') return { ok: false, reason: decoded.reason };
  return resolveSegments(decoded, query);
}

function decode(raw: string): string | { reason: NormalizeReason } {
  let out = '';
  let last = 0;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 0x00) return { reason: 'nul' };
    if (c === 0x5c) return { reason: 'backslash' };
    if (c < 0x20 || c === 0x7f) return { reason: 'control_character' };
    if (c !== 0x25) continue;
    const hi = hexValue(raw.charCodeAt(i + 1));
    const lo = hexValue(raw.charCodeAt(i + 2));
    if (hi < 0 || lo < 0) return { reason: 'invalid_encoding' };
    const v = hi * 16 + lo;
    if (v === 0x00) return { reason: 'nul' };
    if (v === 0x2f) return { reason: 'encoded_slash' };
    if (v === 0x5c) return { reason: 'encoded_backslash' };
    out += raw.slice(last, i);
    // Other escapes stay escaped (decoding them could change meaning) but get one spelling.
    out += isUnreserved(v) ? String.fromCharCode(v) : '%' + raw.slice(i + 1, i + 3).toUpperCase();
    i += 2;
    last = i + 1;
  }
  return out + raw.slice(last);
}

function resolveSegments(decoded: string, query: string): NormalizedPath {
  const segments = decoded.split('/');
  const out: string[] = [];
  let trailingSlash = false;
  // segments[0] is the empty string before the leading `/`.
  for (let i = 1; i < segments.length; i++) {
    const seg = segments[i];
    const isLast = i === segments.length - 1;
    if (seg === '' || seg === '.') {
      // merged slash or RFC 3986 §5.2.4 dot segment; `/a/.` resolves to `/a/`
      if (isLast) trailingSlash = true;
      continue;
    }
    // Refused, not resolved: a `..` that reaches the upstream differently than here is a bypass.
    if (seg === '..') return { ok: false, reason: 'path_traversal' };
    // RFC 3986 §3.3 path parameters: servlet containers (Tomcat, Jetty) drop `;...` from a
    // segment before resolving it, so `..;x` is `..` to them and `.;x` is `.`.
    if (seg.charCodeAt(0) === 0x2e && isDotWithParameters(seg)) return { ok: false, reason: 'path_traversal' };
    trailingSlash = false;
    out.push(seg);
  }
  const path = '/' + out.join('/') + (trailingSlash && out.length > 0 ? '/' : '');
  return { ok: true, path, query };
}

/** `.;x`, `..;x`, and the same with an encoded `;` (`%3B`, which this decoder keeps encoded). */
function isDotWithParameters(seg: string): boolean {
  const semi = seg.indexOf(';');
  const enc = seg.search(/%3B/i);
  const cut = semi === -1 ? enc : enc === -1 ? semi : Math.min(semi, enc);
  if (cut === -1) return false;
  const head = seg.slice(0, cut);
  return head === '.' || head === '..';
}
