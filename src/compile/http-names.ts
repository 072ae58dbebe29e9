/** RFC 9110 §5.1: a field name is a token. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;

/**
 * Headers claimcheck must never set on the upstream request: hop-by-hop and framing
 * headers (RFC 9110 §7.6.1), the ones Envoy owns or rejects from ext_authz
 * (`host`, pseudo-headers, `x-envoy-*`), and credentials, because every emitted name is
 * stripped from every allowed request and stripping `authorization` or `cookie` would
 * break other policies. `x-forwarded-*` and `forwarded` (RFC 7239) belong to the proxies:
 * they describe the client's connection, and forward-auth proxies steer on them.
 */
const FORBIDDEN = new Set([
  'host', 'content-length', 'content-type', 'transfer-encoding', 'connection', 'keep-alive',
  'proxy-connection', 'upgrade', 'te', 'trailer', 'expect', 'authorization', 'proxy-authorization',
  'cookie', 'set-cookie', 'x-request-id', 'forwarded',
]);

/** A reason why `name` (already lowercased) cannot be an identity header, or undefined if it can. */
export function identityHeaderNameProblem(name: string): string | undefined {
  if (name.startsWith(':')) return `${JSON.stringify(name)} is a pseudo-header and cannot be set`;
  if (!TOKEN.test(name)) return `${JSON.stringify(name)} is not a valid HTTP header name`;
  if (FORBIDDEN.has(name) || name.startsWith('x-envoy-') || name.startsWith('x-forwarded-')) return `${JSON.stringify(name)} is reserved and cannot be an identity header`;
  return undefined;
}

export function isHeaderToken(name: string): boolean {
  return TOKEN.test(name);
}
