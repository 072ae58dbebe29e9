/**
 * Host normalisation for policy lookup (docs/configuration.md "Hosts"): lowercase,
 * no port, no trailing dot — `Example.COM.:443` and `example.com` are one host.
 * Garbage in yields garbage out (which then matches no policy); it never throws.
 */
export function normalizeHost(authority: string): string {
  if (typeof authority !== 'string') return '';
  let host = authority.trim().toLowerCase();
  if (host.startsWith('[')) {
    // RFC 3986 §3.2.2 IP-literal: `[::1]:8080` → `::1`
    const close = host.indexOf(']');
    host = close === -1 ? host.slice(1) : host.slice(1, close);
    return host;
  }
  const colon = host.indexOf(':');
  // More than one colon without brackets is a bare IPv6 address: there is no port to drop.
  if (colon !== -1 && host.indexOf(':', colon + 1) === -1) host = host.slice(0, colon);
  // RFC 1034 §3.1: a fully-qualified name may end in a dot; it names the same host.
  if (host.endsWith('.')) host = host.slice(0, -1);
  return host;
}
