/**
 * RFC 8705 §3.1 `x5t#S256`: base64url(SHA-256(the certificate's DER)), from the two places a
 * proxy reports the client certificate: Envoy's attributes.source.certificate (PEM) or the
 * `x-forwarded-client-cert` header Envoy and Istio set (`Hash=` hex, or `Cert=` URL-encoded PEM).
 */
import { createHash, X509Certificate } from 'node:crypto';

/** A client sends the same certificate on every connection: each is parsed once. Bounded: the certificates are the clients'. */
const byPem = new Map<string, string | undefined>();
const MAX_REMEMBERED = 1024;

/** undefined when `pem` is not one X.509 certificate */
export function thumbprintOfPem(pem: string): string | undefined {
  if (byPem.has(pem)) return byPem.get(pem);
  let thumbprint: string | undefined;
  try {
    thumbprint = createHash('sha256').update(new X509Certificate(pem).raw).digest('base64url');
  } catch {
    thumbprint = undefined;
  }
  if (byPem.size >= MAX_REMEMBERED) byPem.clear();
  byPem.set(pem, thumbprint);
  return thumbprint;
}

/**
 * The certificate of the last element of `x-forwarded-client-cert` (the one the proxy in
 * front of claimcheck set; Envoy appends, or with SANITIZE_SET replaces), per Envoy's
 * format: elements separated by `,`, `key=value` pairs by `;`, values optionally quoted.
 */
export function thumbprintOfXfcc(values: readonly string[]): string | undefined {
  const elements = values.flatMap(splitOutsideQuotes(','));
  const last = elements[elements.length - 1];
  if (last === undefined) return undefined;
  const pairs = new Map<string, string>();
  for (const pair of splitOutsideQuotes(';')(last)) {
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    pairs.set(pair.slice(0, eq).trim().toLowerCase(), unquote(pair.slice(eq + 1).trim()));
  }
  const hash = pairs.get('hash');
  if (hash !== undefined) return /^[0-9a-fA-F]{64}$/.test(hash) ? Buffer.from(hash, 'hex').toString('base64url') : undefined;
  const cert = pairs.get('cert');
  if (cert === undefined) return undefined;
  try {
    return thumbprintOfPem(decodeURIComponent(cert));
  } catch {
    return undefined;
  }
}

function splitOutsideQuotes(sep: string): (text: string) => string[] {
  return (text) => {
    const out: string[] = [];
    let quoted = false;
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (c === '\\' && quoted) i++;
      else if (c === '"') quoted = !quoted;
      else if (c === sep && !quoted) {
        out.push(text.slice(start, i));
        start = i + 1;
      }
    }
    out.push(text.slice(start));
    return out.map((s) => s.trim()).filter((s) => s !== '');
  };
}

function unquote(v: string): string {
  return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1).replace(/\\(.)/g, '$1') : v;
}
