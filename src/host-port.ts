/**
 * A listen address: HOST:PORT, [IPv6]:PORT or :PORT. The host is '' for :PORT (every
 * interface; each server says which wildcard that means). undefined when malformed.
 */
export function splitHostPort(addr: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(addr);
  if (!m || Number(m[3]) > 65535) return undefined;
  return { host: m[1] ?? m[2]!, port: Number(m[3]) };
}
