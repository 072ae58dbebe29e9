/**
 * A hung IdP: an HTTPS JWKS endpoint that answers its first `answered` requests and then holds
 * every request open, unanswered, until closed. Unlike a delayed answer, no timer outlives the test.
 */
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { JWKS_PATH } from './jwks-server.js';
import type { TestCa } from './test-ca.js';

export interface StallingEndpoint {
  readonly url: string;
  readonly jwksUrl: string;
  /** requests received, answered or held */
  requests(): number;
  close(): Promise<void>;
}

export async function startStallingEndpoint(opts: { tls: TestCa; jwks: { keys: unknown[] }; answered?: number }): Promise<StallingEndpoint> {
  let requests = 0;
  const server = https.createServer({ cert: opts.tls.serverCert, key: opts.tls.serverKey }, (_req, res) => {
    requests++;
    // Past `answered`, the response is never written: the client waits until its own timeout or close().
    if (requests <= (opts.answered ?? 0)) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(opts.jwks));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    jwksUrl: url + JWKS_PATH,
    requests: () => requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
