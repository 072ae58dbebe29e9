/**
 * Host normalisation for policy lookup (docs/configuration.md "Hosts"):
 * lowercase, no port, no trailing dot — `Example.COM.:443` and `example.com` are one
 * host. '' for a host that is not one: empty, longer than 253 characters or with a label
 * longer than 63 (RFC 1035 §2.3.4), an empty label (`a..b`), or any character outside
 * printable ASCII (space, control, non-ASCII). Never throws.
 *
 * ASCII only, on purpose: Unicode lowercasing maps KELVIN SIGN (U+212A) to `k`, so
 * `\u212Aey.example.com` would be `key.example.com` here and something else to the
 * upstream. Internationalised names are matched in their IDNA (punycode) form, which is
 * what clients send and what policy hosts are converted to when they are compiled.
 */
const MAX_HOST = 253;
const MAX_LABEL = 63;
/** [IPv6 with a zone]:port at most; anything longer is not a host */
const MAX_AUTHORITY = MAX_HOST + 1 + 6;
const NOT_PRINTABLE_ASCII = /[^\x21-\x7e]/;

export function normalizeHost(authority: string): string {
  if (typeof authority !== 'string' || authority.length === 0 || authority.length > MAX_AUTHORITY) return '';
  if (NOT_PRINTABLE_ASCII.test(authority)) return '';
  // safe after the ASCII check: toLowerCase on ASCII only lowercases A-Z
  let host = authority.toLowerCase();
  if (host.startsWith('[')) {
    // RFC 3986 §3.2.2 IP-literal: `[::1]:8080` → `::1`
    const close = host.indexOf(']');
    return close === -1 ? host.slice(1) : host.slice(1, close);
  }
  const colon = host.indexOf(':');
  // More than one colon without brackets is a bare IPv6 address: there is no port to drop.
  if (colon !== -1 && host.indexOf(':', colon + 1) === -1) host = host.slice(0, colon);
  else if (colon !== -1) return host;
  // RFC 1034 §3.1: a fully-qualified name may end in a dot; it names the same host.
  if (host.endsWith('.')) host = host.slice(0, -1);
  return validLabels(host) ? host : '';
}

function validLabels(host: string): boolean {
  if (host.length === 0 || host.length > MAX_HOST) return false;
  let start = 0;
  for (;;) {
    const dot = host.indexOf('.', start);
    const end = dot === -1 ? host.length : dot;
    if (end === start || end - start > MAX_LABEL) return false;
    if (dot === -1) return true;
    start = dot + 1;
  }
}
