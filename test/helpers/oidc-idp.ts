/**
 * A real oidc-provider authorization server on 127.0.0.1:0 over HTTPS under a test CA: the
 * client credentials grant, resource indicators (RFC 8707: the token's aud is the resource) and
 * RFC 9068 JWT access tokens (typ at+jwt). Tokens come only from its real token endpoint.
 */
import { X509Certificate, type KeyObject } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import Provider, { errors } from 'oidc-provider';
import type { ClientCertificate, TestCa } from './test-ca.js';
import type { TestKey } from './tokens.js';

export interface IdpClient {
  id: string;
  secret: string;
  /** registered with private_key_jwt (RFC 7523) and these public keys instead of its secret */
  jwks?: { keys: Record<string, unknown>[] };
}

export interface IdpResource {
  /** the resource indicator; oidc-provider puts it in aud as given */
  indicator: string;
  /** space-separated scopes this resource server defines; others are dropped from its tokens */
  scope: string;
  /**
   * oidc-provider's resource-server `jwt.encrypt`: its access tokens are JWEs for this key
   * (cty at+jwt around the signed token); `unsigned` drops `jwt.sign`, so the JWE holds bare
   * claims (oidc-provider allows that only with a secret key)
   */
  encrypt?: { alg: string; enc: string; key: KeyObject; kid?: string; unsigned?: boolean };
  /** `opaque`: its access tokens are opaque (oidc-provider's accessTokenFormat), checked only by introspection */
  format?: 'opaque';
}

export interface OidcIdpOptions {
  tls: TestCa;
  /** oidc-provider signs with the first key that fits the alg (RS256 here); all are published */
  keys: TestKey[];
  clients: IdpClient[];
  resources: IdpResource[];
  /**
   * Serve plain HTTP behind a TLS-terminating proxy (the usual deployment) instead of HTTPS in
   * node; `trustProxy` sets provider.proxy, i.e. whether X-Forwarded-Proto is believed.
   */
  tlsOffload?: { trustProxy: boolean };
  /** oidc-provider's dPoP feature: a token request with a DPoP proof gets a DPoP-bound token (cnf.jkt) */
  dpop?: boolean;
  /**
   * oidc-provider's mTLS feature with certificateBoundAccessTokens (RFC 8705 §3): every client is
   * registered with tls_client_certificate_bound_access_tokens, so its tokens carry
   * cnf["x5t#S256"] of the certificate it presented on the TLS connection (and it must present one).
   */
  mtls?: boolean;
  /** oidc-provider's introspection feature (RFC 7662), at `introspection_endpoint`; any registered client may call it */
  introspection?: boolean;
}

export interface HttpsResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface OidcIdp {
  /** https://127.0.0.1:<port>, the URL it is reached on */
  readonly issuer: string;
  /** the discovery document as served to a client that reaches the issuer URL */
  discovery(): Promise<Record<string, unknown>>;
  /**
   * POST grant_type=client_credentials with client_secret_basic to the discovered token endpoint;
   * `dpop(tokenEndpoint)` makes the proof to send, `certificate` is presented in the TLS handshake
   */
  requestToken(req: { client: IdpClient; resource: string; scope: string; tokenEndpoint?: string; dpop?: (tokenEndpoint: string) => Promise<string>; certificate?: ClientCertificate }): Promise<HttpsResult>;
  /** requests the provider received for a path (query ignored), e.g. '/jwks' */
  requests(path: string): number;
  /** a new Provider (same issuer, port and clients) signing with keys[0]; the old one stops answering */
  setKeys(keys: TestKey[]): void;
  close(): Promise<void>;
}

export const ACCESS_TOKEN_TTL_SEC = 300;

/** GET or POST over HTTPS trusting only the test CA (undici's fetch takes no per-request CA). */
export function httpsRequest(url: string, ca: string, opts: { method?: string; headers?: Record<string, string>; body?: string; certificate?: ClientCertificate } = {}): Promise<HttpsResult> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method: opts.method ?? 'GET', headers: opts.headers, ca, agent: false, ...opts.certificate }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    // a request that hangs fails the suite with its URL instead of holding it until the test timeout
    req.setTimeout(10_000, () => req.destroy(new Error(`no answer from ${url} within 10 s`)));
    req.end(opts.body);
  });
}

function privateJwk(key: TestKey): Record<string, unknown> {
  return { ...(key.privateKey.export({ format: 'jwk' }) as Record<string, unknown>), kid: key.kid, alg: key.alg, use: 'sig' };
}

function createProvider(issuer: string, opts: OidcIdpOptions, keys: TestKey[]): Provider {
  const resources = new Map(opts.resources.map((r) => [r.indicator, r]));
  const provider = new Provider(issuer, {
    clients: opts.clients.map((c) => ({
      client_id: c.id,
      ...(c.jwks ? { jwks: c.jwks, token_endpoint_auth_method: 'private_key_jwt' } : { client_secret: c.secret, token_endpoint_auth_method: 'client_secret_basic' }),
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      ...(opts.mtls ? { tls_client_certificate_bound_access_tokens: true } : {}),
    })),
    jwks: { keys: keys.map(privateJwk) },
    ttl: { ClientCredentials: ACCESS_TOKEN_TTL_SEC },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      ...(opts.dpop ? { dPoP: { enabled: true } } : {}),
      ...(opts.introspection ? { introspection: { enabled: true } } : {}),
      ...(opts.mtls ? { mTLS: { enabled: true, certificateBoundAccessTokens: true, getCertificate: peerCertificate } } : {}),
      resourceIndicators: {
        enabled: true,
        // An unregistered resource is invalid_target, as a production policy would have it.
        getResourceServerInfo: async (_ctx: unknown, indicator: string) => {
          const r = resources.get(indicator);
          if (!r) throw new errors.InvalidTarget();
          const e = r.encrypt;
          const jwt = { ...(e?.unsigned ? {} : { sign: { alg: 'RS256' } }), ...(e ? { encrypt: { alg: e.alg, enc: e.enc, key: e.key, ...(e.kid ? { kid: e.kid } : {}) } } : {}) };
          if (r.format === 'opaque') return { scope: r.scope, accessTokenFormat: 'opaque', accessTokenTTL: ACCESS_TOKEN_TTL_SEC };
          return { scope: r.scope, accessTokenFormat: 'jwt', accessTokenTTL: ACCESS_TOKEN_TTL_SEC, jwt };
        },
      },
    },
  });
  provider.proxy = opts.tlsOffload?.trustProxy ?? false;
  return provider;
}

/**
 * The certificate the client presented on this TLS connection, unverified: binding a token needs
 * only its thumbprint (client authentication stays client_secret_basic). Koa's ctx.socket is the
 * TLSSocket; with no certificate getPeerCertificate() is an empty object.
 */
function peerCertificate(ctx: { socket: TLSSocket }): X509Certificate | undefined {
  const raw = ctx.socket.getPeerCertificate?.(false)?.raw;
  return raw ? new X509Certificate(raw) : undefined;
}

async function listen(server: http.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** What nginx's proxy_pass does: keep Host, add X-Forwarded-Proto/-For, stream both ways. */
function tlsTerminatingProxy(tls: TestCa, backendPort: number): https.Server {
  return https.createServer({ cert: tls.serverCert, key: tls.serverKey }, (req, res) => {
    const headers = { ...req.headers, 'x-forwarded-proto': 'https', 'x-forwarded-for': req.socket.remoteAddress ?? '' };
    const upstream = http.request({ host: '127.0.0.1', port: backendPort, method: req.method, path: req.url, headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
}

export async function startOidcIdp(opts: OidcIdpOptions): Promise<OidcIdp> {
  // The issuer must be the URL clients use, known only once the listening port is: the handler
  // is bound late, and swapping it keeps issuer and port across a key change.
  let handler: http.RequestListener = (_req, res) => void res.writeHead(503).end();
  const counts = new Map<string, number>();
  const dispatch: http.RequestListener = (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    counts.set(path, (counts.get(path) ?? 0) + 1);
    handler(req, res);
  };
  const servers: http.Server[] = [];
  let port: number;
  if (opts.tlsOffload && opts.mtls) throw new Error('mtls needs the client\'s TLS connection: not with tlsOffload');
  if (opts.tlsOffload) {
    const backend = http.createServer(dispatch);
    servers.push(backend);
    const front = tlsTerminatingProxy(opts.tls, await listen(backend));
    servers.push(front);
    port = await listen(front);
  } else {
    // The client certificate is asked for, not verified: binding a token needs only its thumbprint.
    const mtls = opts.mtls ? { requestCert: true, rejectUnauthorized: false } : {};
    const server = https.createServer({ cert: opts.tls.serverCert, key: opts.tls.serverKey, ...mtls }, dispatch);
    servers.push(server);
    port = await listen(server);
  }
  const issuer = `https://127.0.0.1:${port}`;
  const setKeys = (keys: TestKey[]) => {
    handler = createProvider(issuer, opts, keys).callback();
  };
  setKeys(opts.keys);

  const discovery = async () => {
    const res = await httpsRequest(`${issuer}/.well-known/openid-configuration`, opts.tls.caCert);
    if (res.status !== 200) throw new Error(`discovery: HTTP ${res.status} ${res.body}`);
    return JSON.parse(res.body) as Record<string, unknown>;
  };

  return {
    issuer,
    discovery,
    requests: (path) => counts.get(path) ?? 0,
    setKeys,
    requestToken: async ({ client, resource, scope, tokenEndpoint, dpop, certificate }) => {
      tokenEndpoint ??= String((await discovery()).token_endpoint);
      const proof: Record<string, string> = dpop ? { dpop: await dpop(tokenEndpoint) } : {};
      // RFC 6749 §2.3.1: id and secret are form-urlencoded before they are joined and base64'd.
      const form = (v: string) => new URLSearchParams({ v }).toString().slice(2);
      const basic = Buffer.from(`${form(client.id)}:${form(client.secret)}`).toString('base64');
      return httpsRequest(tokenEndpoint, opts.tls.caCert, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${basic}`, ...proof },
        body: new URLSearchParams({ grant_type: 'client_credentials', resource, scope }).toString(),
        certificate,
      });
    },
    close: async () => {
      for (const s of servers.reverse()) {
        s.closeAllConnections();
        await new Promise<void>((resolve) => s.close(() => resolve()));
      }
    },
  };
}
