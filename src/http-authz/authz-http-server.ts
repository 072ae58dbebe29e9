/**
 * The HTTP authorization listener (`--authz-http-addr`): HTTP/1.1 with keep-alive, for
 * Envoy's `http_service` and forward-auth proxies. Every answer is a decision of the same
 * Check handler as gRPC, or a denial: a request that cannot be decided on is a 4xx, and
 * anything that goes wrong inside is a 503 deny, never a 500 from Node.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createHttp1Server } from '../tls/secure-server.js';
import type { ServerTls } from '../tls/server-tls.js';
import type { Socket } from 'node:net';
import { ClaimcheckError } from '../errors.js';
import { hostOf, parseHostPort, removeStaleSocket, socketPath } from '../listen-address.js';
import { isPromise, type MaybePromise } from '../maybe-async.js';
import type { AuthRequest } from '../request.js';
import type { DeniedPlan, ResponsePlan } from '../respond/plan.js';
import type { AnswerKey, CachedAnswer } from '../pipeline/answer-cache.js';
import { httpRefusalPlan, type HttpRefusal } from './http-refusals.js';
import { conventionOf, readAuthzRequest, type Convention, type RawHttpRequest } from './read-authz-request.js';
import { answerKey, type CredentialSources } from './answer-key.js';
import { okHeaders, writeAnswer, writeDenied, type FiveXx } from './write-authz-answer.js';

/**
 * - 100 header lines and 60 KiB of headers: Envoy's own defaults (max_headers_count,
 *   max_request_headers_kb), so nothing Envoy forwards is refused. Over them is a 431 and
 *   the connection stays usable; past 80 KiB Node's parser gives up and the connection closes.
 * - 1 MiB of body: no proxy needs to send one (claimcheck decides on headers); Envoy's
 *   with_request_body is read and dropped up to this, a larger one is a 413.
 * - keep-alive 75 s: longer than nginx's (60 s) upstream idle time, so the proxy closes
 *   idle connections first and never sends a request on one claimcheck is closing.
 */
export const HTTP_LIMITS = {
  maxHeaderLines: 100,
  maxHeaderBytes: 60 * 1024,
  parserMaxHeaderBytes: 80 * 1024,
  maxBodyBytes: 1024 * 1024,
  keepAliveTimeoutMs: 75_000,
  requestTimeoutMs: 10_000,
} as const;

export interface AuthzHttpServerOptions {
  /** host:port or unix:/path */
  addr: string;
  /** `cacheKey`: given when `answers` is, for the answer to be remembered under */
  check(req: AuthRequest, cacheKey?: AnswerKey): MaybePromise<ResponsePlan>;
  /** the answer cache (pipeline/answer-cache.ts); without it every request is decided */
  answers?: AnswerLookup;
  onInternalError?(err: unknown): void;
  /**
   * Forward auth only: whether the request carries a header aliasing an identity header
   * (respond/header-alias.ts). Envoy removes those from x-envoy-auth-headers-to-remove;
   * forward-auth proxies remove nothing claimcheck names, so such a request is refused.
   */
  hasIdentityAlias?(headers: ReadonlyMap<string, readonly string[]>): boolean;
  /** a request denied before a decision: not an authorization request, too large, unparsable */
  onRefused?(refusal: HttpRefusal): void;
  /** --authz-http-tls-*: HTTPS (and with a client CA, mTLS) */
  tls?: ServerTls;
}

export interface AnswerLookup {
  /** where the snapshot in force reads tokens from (the snapshot itself); undefined before the first one */
  sources(): CredentialSources | undefined;
  /** `requestOf` builds the request, for a decision log that samples allows */
  cached(key: AnswerKey, requestOf: () => AuthRequest): CachedAnswer | undefined;
}

export interface RunningAuthzHttpServer {
  /** host:port with the real port, or unix:/path */
  address: string;
  port?: number;
  /** stop accepting, let in-flight requests finish, then close every connection */
  drain(deadlineMs: number): Promise<void>;
}

export async function startAuthzHttpServer(opts: AuthzHttpServerOptions): Promise<RunningAuthzHttpServer> {
  // While draining, every answer closes its connection, so server.close() finishes as soon as the in-flight ones do.
  let draining = false;
  const refuse = (res: ServerResponse, refusal: HttpRefusal, close = false): void => {
    if (draining) res.shouldKeepAlive = false;
    opts.onRefused?.(refusal);
    writeDenied(res, httpRefusalPlan(refusal), close);
  };
  const internal = (res: ServerResponse, err: unknown, fiveXx: FiveXx): void => {
    if (draining) res.shouldKeepAlive = false;
    opts.onInternalError?.(err);
    if (!res.headersSent) writeDenied(res, httpRefusalPlan('internal_error'), false, fiveXx);
    else res.destroy();
  };
  const send = (res: ServerResponse, plan: ResponsePlan, fiveXx: FiveXx): void => {
    if (draining) res.shouldKeepAlive = false;
    try {
      writeAnswer(res, plan, fiveXx);
    } catch (err) {
      internal(res, err, fiveXx);
    }
  };

  const sendRemembered = (res: ServerResponse, hit: CachedAnswer): void => {
    if (draining) res.shouldKeepAlive = false;
    res.writeHead(200, (hit.encoded ??= okHeaders(hit.plan)));
    res.end();
  };

  const server: Server = createHttp1Server(
    opts.tls,
    { maxHeaderSize: HTTP_LIMITS.parserMaxHeaderBytes, requestTimeout: HTTP_LIMITS.requestTimeoutMs, keepAliveTimeout: HTTP_LIMITS.keepAliveTimeoutMs },
    (req, res) => {
      const url = req.url ?? '/';
      const convention = conventionOf(url);
      const fiveXx: FiveXx = convention === 'ext-authz' ? 'as-403' : 'as-is';
      try {
        const tooLarge = headersTooLarge(req.rawHeaders);
        if (tooLarge) return refuse(res, 'headers_too_large');
        if (!acceptBody(req, () => refuse(res, 'body_too_large', true))) return;
        const raw: RawHttpRequest = { method: req.method ?? 'GET', url, rawHeaders: req.rawHeaders };
        const sources = convention && opts.answers?.sources();
        const key = sources ? answerKey(raw.method, url, raw.rawHeaders, sources) : undefined;
        if (key !== undefined) {
          const hit = opts.answers!.cached(key, () => requestOf(raw, convention));
          if (hit) return sendRemembered(res, hit);
        }
        const read = readAuthzRequest(raw, convention);
        if (!read.ok) return refuse(res, read.reason);
        if (read.convention === 'forward-auth' && opts.hasIdentityAlias?.(read.request.headers)) return refuse(res, 'identity_header_alias');
        const plan = opts.check(read.request, key);
        if (!isPromise(plan)) return send(res, plan, fiveXx);
        plan.then((p) => send(res, p, fiveXx), (err: unknown) => internal(res, err, fiveXx));
      } catch (err) {
        internal(res, err, fiveXx);
      }
    },
  );
  // Node counts header lines itself only to drop the extra ones silently; the 431 above counts them.
  server.maxHeadersCount = 0;
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => answerParseError(err, socket, opts.onRefused));

  const unixPath = opts.addr.startsWith('unix:') ? socketPath(opts.addr) : undefined;
  if (unixPath) await removeStaleSocket(unixPath);
  const where = unixPath ? { path: unixPath } : parseHostPort(opts.addr);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(where, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    throw new ClaimcheckError('listen_failed', `cannot listen on ${opts.addr}: ${(err as Error).message}`, { cause: err });
  }
  const bound = server.address();
  const port = typeof bound === 'object' && bound ? bound.port : undefined;

  let drained: Promise<void> | undefined;
  return {
    address: unixPath ? opts.addr : `${hostOf(opts.addr)}:${port}`,
    ...(port !== undefined ? { port } : {}),
    drain: (deadlineMs) =>
      (drained ??= new Promise<void>((resolve) => {
        draining = true;
        // the deadline ends the drain itself, as the gRPC listener's does (grpc/server.ts)
        const timer = setTimeout(() => {
          server.closeAllConnections();
          resolve();
        }, Math.max(0, deadlineMs));
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
      })),
  };
}

/** A remembered answer's request: read as it was when the answer was decided, so it reads the same way. */
function requestOf(raw: RawHttpRequest, convention: Convention | undefined): AuthRequest {
  const read = readAuthzRequest(raw, convention);
  if (!read.ok) throw new Error(`a remembered answer's request no longer reads: ${read.reason}`);
  return read.request;
}

function headersTooLarge(raw: readonly string[]): boolean {
  if (raw.length > HTTP_LIMITS.maxHeaderLines * 2) return true;
  let bytes = 0;
  // name ": " value CRLF, as counted on the wire
  for (let i = 0; i < raw.length; i++) bytes += raw[i]!.length + 2;
  return bytes > HTTP_LIMITS.maxHeaderBytes;
}

/**
 * The body is never decided on: read and drop it, so the connection can take the next
 * request, up to the limit; past it the answer is a 413 and the connection closes.
 */
function acceptBody(req: IncomingMessage, tooLarge: () => void): boolean {
  const declared = req.headers['content-length'];
  // RFC 9112 §6.3: a request with neither header has no body, and nothing to read
  if (declared === undefined && req.headers['transfer-encoding'] === undefined) return true;
  if (declared !== undefined && Number(declared) > HTTP_LIMITS.maxBodyBytes) {
    tooLarge();
    return false;
  }
  let seen = 0;
  req.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > HTTP_LIMITS.maxBodyBytes) req.socket.destroy();
  });
  req.on('error', () => undefined);
  return true;
}

/** Node's parser refused the request: answer like every other refusal, then close. */
function answerParseError(err: NodeJS.ErrnoException, socket: Socket, onRefused: ((r: HttpRefusal) => void) | undefined): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const refusal: HttpRefusal = err.code === 'HPE_HEADER_OVERFLOW' ? 'headers_too_large' : 'malformed_request';
  onRefused?.(refusal);
  socket.end(rawResponse(httpRefusalPlan(refusal)));
}

function rawResponse(plan: DeniedPlan): string {
  const head = [`HTTP/1.1 ${plan.httpStatus} ${plan.httpStatus === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}`];
  for (const h of plan.headers) head.push(`${h.name}: ${h.value}`);
  head.push(`content-length: ${Buffer.byteLength(plan.body)}`, 'connection: close');
  return `${head.join('\r\n')}\r\n\r\n${plan.body}`;
}
