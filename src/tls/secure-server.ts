/** HTTP/1.1 and HTTP/2 servers in plaintext, or over TLS kept current by a ServerTls (tls/server-tls.ts). */
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import type { ServerTls } from './server-tls.js';

export function createHttp1Server(tls: ServerTls | undefined, options: http.ServerOptions, handler: http.RequestListener): http.Server {
  if (!tls) return http.createServer(options, handler);
  const server = https.createServer({ ...options, ...tls.serverOptions() }, handler);
  tls.attach(server);
  // https.Server is http.Server's API over tls.Server; node's types keep them apart
  return server as unknown as http.Server;
}

/** gRPC needs HTTP/2: over TLS, ALPN h2 only (RFC 9113 §3.2), no HTTP/1.1 fallback. */
export function createHttp2Server(tls: ServerTls | undefined, options: http2.ServerOptions): http2.Http2Server | http2.Http2SecureServer {
  if (!tls) return http2.createServer(options);
  const server = http2.createSecureServer({ ...options, ...tls.serverOptions(), allowHTTP1: false });
  tls.attach(server);
  return server;
}
