/** /healthz (alive), /readyz (config loaded and keys settled), /metrics (Prometheus). */
import type { Server } from 'node:http';
import type { ServerTls } from '../tls/server-tls.js';
import { createHttp1Server } from '../tls/secure-server.js';
import { splitHostPort } from '../host-port.js';

export interface ReadinessReport {
  ready: boolean;
  detail: Record<string, unknown>;
}

export interface HttpServerOptions {
  addr: string;
  /** a prom-client Registry, or the cluster primary's aggregation of its workers' registries */
  registry: { readonly contentType: string; metrics(): Promise<string> };
  readiness(): ReadinessReport;
  /** identity tokens: the discovery document and JWKS, at `/.well-known/` and under the issuer URL's path */
  wellKnown?: { readonly pathPrefix: string; discovery(): string; jwks(): string };
  /** --http-tls-*: HTTPS (and with a client CA, mTLS) */
  tls?: ServerTls;
}

/** Keys are fetched again on an unknown kid, so a short max-age only bounds how long a removed key is still trusted. */
const WELL_KNOWN_MAX_AGE_SEC = 60;

export async function startHttpServer(opts: HttpServerOptions): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server = createHttp1Server(opts.tls, {}, (req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    let document: 'jwks' | 'discovery' | undefined;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (url === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (url === '/readyz') {
      const r = opts.readiness();
      res.writeHead(r.ready ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ ready: r.ready, ...r.detail }) + '\n');
    } else if (opts.wellKnown && (document = wellKnown(url, opts.wellKnown.pathPrefix)) !== undefined) {
      const doc = document === 'jwks' ? opts.wellKnown.jwks() : opts.wellKnown.discovery();
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': `public, max-age=${WELL_KNOWN_MAX_AGE_SEC}` }).end(doc);
    } else if (url === '/metrics') {
      opts.registry.metrics().then(
        (body) => res.writeHead(200, { 'content-type': opts.registry.contentType }).end(body),
        () => res.writeHead(500).end(),
      );
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  const parsed = splitHostPort(opts.addr);
  if (!parsed) throw new Error(`cannot listen on ${opts.addr}: expected HOST:PORT`);
  const host = parsed.host || '0.0.0.0';
  const port = parsed.port;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  return {
    server,
    port: typeof address === 'object' && address ? address.port : port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function wellKnown(url: string, prefix: string): 'jwks' | 'discovery' | undefined {
  for (const base of prefix === '' ? [''] : ['', prefix]) {
    if (url === `${base}/.well-known/jwks.json`) return 'jwks';
    if (url === `${base}/.well-known/openid-configuration`) return 'discovery';
  }
  return undefined;
}
