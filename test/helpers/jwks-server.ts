/** A real JWKS / OIDC discovery server on 127.0.0.1:0 (HTTPS with a test CA, or plain HTTP), with fault injection. */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TestCa } from './test-ca.js';

export const JWKS_PATH = '/jwks';
export const DISCOVERY_PATH = '/.well-known/openid-configuration';

export interface Fault {
  status?: number;
  delayMs?: number;
  invalidJson?: boolean;
  /** send a body of this many bytes (a valid JSON string padded with spaces) */
  hugeBodyBytes?: number;
  /** 302 to this location */
  redirectTo?: string;
  /** destroy the socket without answering */
  closeConnection?: boolean;
}

export interface JwksServer {
  /** e.g. https://127.0.0.1:43121 */
  readonly url: string;
  readonly jwksUrl: string;
  setJwks(jwks: { keys: unknown[] }): void;
  /** `undefined` makes the discovery path 404 */
  setDiscovery(doc: Record<string, unknown> | undefined): void;
  /** a fault for one path, or for every path when path is omitted; undefined clears it */
  setFault(fault: Fault | undefined, path?: string): void;
  setCacheControl(value: string | undefined): void;
  /** requests seen for a path (query string ignored) */
  count(path: string): number;
  totalRequests(): number;
  resetCounts(): void;
  close(): Promise<void>;
}

export async function startJwksServer(opts: { tls?: TestCa; jwks?: { keys: unknown[] }; port?: number } = {}): Promise<JwksServer> {
  let jwks: { keys: unknown[] } = opts.jwks ?? { keys: [] };
  let discovery: Record<string, unknown> | undefined;
  let cacheControl: string | undefined;
  const faults = new Map<string, Fault>();
  const counts = new Map<string, number>();

  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0]!;
    counts.set(path, (counts.get(path) ?? 0) + 1);
    const fault = faults.get(path) ?? faults.get('*');
    const answer = () => {
      if (fault?.closeConnection) {
        req.socket.destroy();
        return;
      }
      if (fault?.redirectTo) {
        res.writeHead(302, { location: fault.redirectTo }).end();
        return;
      }
      if (fault?.status) {
        res.writeHead(fault.status, { 'content-type': 'text/plain' }).end('fault');
        return;
      }
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (cacheControl) headers['cache-control'] = cacheControl;
      if (fault?.invalidJson) {
        res.writeHead(200, headers).end('{"keys": [');
        return;
      }
      if (fault?.hugeBodyBytes) {
        // Streamed without content-length, so the client's running byte count is what stops it.
        res.writeHead(200, headers);
        const chunk = ' '.repeat(64 * 1024);
        let sent = 0;
        const pump = () => {
          while (sent < fault.hugeBodyBytes!) {
            sent += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end('{"keys": []}');
        };
        res.on('error', () => undefined);
        pump();
        return;
      }
      let body: unknown;
      if (path === JWKS_PATH) body = jwks;
      else if (path === DISCOVERY_PATH && discovery) body = discovery;
      if (body === undefined) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, headers).end(JSON.stringify(body));
    };
    if (fault?.delayMs) setTimeout(answer, fault.delayMs);
    else answer();
  };

  const server = opts.tls
    ? https.createServer({ cert: opts.tls.serverCert, key: opts.tls.serverKey }, handler)
    : http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`;

  return {
    url,
    jwksUrl: url + JWKS_PATH,
    setJwks: (j) => void (jwks = j),
    setDiscovery: (d) => void (discovery = d),
    setFault: (f, path = '*') => void (f ? faults.set(path, f) : faults.delete(path)),
    setCacheControl: (v) => void (cacheControl = v),
    count: (path) => counts.get(path) ?? 0,
    totalRequests: () => [...counts.values()].reduce((a, b) => a + b, 0),
    resetCounts: () => counts.clear(),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
