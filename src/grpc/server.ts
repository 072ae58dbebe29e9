import { lstat, unlink } from 'node:fs/promises';
import { connect } from 'node:net';
import { ClaimcheckError } from '../errors.js';
import { splitHostPort } from '../host-port.js';
import type { AuthRequest } from '../request.js';
import type { DeniedPlan, ResponsePlan } from '../respond/plan.js';
import { healthMethods, type HealthState } from './health.js';
import { GrpcCode } from './transport/grpc-codes.js';
import { Http2GrpcServer, type GrpcMethod, type UnaryReply } from './transport/http2-grpc-server.js';
import { decodeCheckRequest } from './wire/decode-check-request.js';
import { encodeCheckResponse } from './wire/encode-check-response.js';
import { isPromise, type MaybePromise } from '../maybe-async.js';

export interface GrpcServerOptions {
  /** host:port or unix:/path */
  addr: string;
  check: (req: AuthRequest) => Promise<ResponsePlan> | ResponsePlan;
  health: HealthState;
  onInternalError?: (err: unknown) => void;
}

export interface RunningGrpcServer {
  /** the bound TCP port; undefined for a unix socket */
  port?: number;
  /** host:port with the real port, or unix:/path */
  address: string;
  /** NOT_SERVING, end health watches, finish in-flight calls; force-close at the deadline. */
  drain(deadlineMs: number): Promise<void>;
  forceClose(): void;
}

/**
 * - max receive 4 MiB: a CheckRequest is headers (plus a body only when Envoy's
 *   with_request_body is on, itself capped by max_request_bytes); bigger is not a request.
 * - keepalive 60 s / 20 s: Envoy holds its HTTP/2 connections for good, so pings
 *   find peers that vanished without a FIN (node drained, pod deleted).
 * - max connection age 10 min (+30 s grace): behind a Kubernetes Service the first
 *   connection pins Envoy to one replica; GOAWAY makes it reconnect and spread out.
 *   In-flight Checks finish within the grace time; new ones go to the new connection.
 */
export const SERVER_OPTIONS = {
  maxReceiveBytes: 4 * 1024 * 1024,
  keepaliveTimeMs: 60_000,
  keepaliveTimeoutMs: 20_000,
  maxConnectionAgeMs: 10 * 60_000,
  maxConnectionAgeGraceMs: 30_000,
};

export const CHECK_PATH = '/envoy.service.auth.v3.Authorization/Check';

/** The 503 for anything that went wrong in claimcheck itself: fail closed, never an RPC error. */
export function internalErrorPlan(requestId: string): DeniedPlan {
  return {
    kind: 'denied',
    grpcCode: 14,
    httpStatus: 503,
    headers: [{ name: 'content-type', value: 'application/json' }],
    body: JSON.stringify({ error: 'temporarily_unavailable', error_description: 'internal error', request_id: requestId }),
  };
}

export async function startGrpcServer(opts: GrpcServerOptions): Promise<RunningGrpcServer> {
  const reportInternal = (err: unknown) => {
    try {
      opts.onInternalError?.(err);
    } catch {
      // a failing reporter must not turn a 503 into an RPC error
    }
  };

  /*
   * Decoding and encoding happen here, inside the method, so a request that fails to decode
   * or a response that fails to encode becomes a 503 deny, not an RPC error, which Envoy
   * with failure_mode_allow (Istio failOpen) lets through. wire/ does both straight between
   * bytes and the domain types: protobufjs objects cost ~16% of a Check's CPU.
   */
  const internalError = (err: unknown, requestId: string): UnaryReply => {
    reportInternal(err);
    try {
      return { message: encodeCheckResponse(internalErrorPlan(requestId)) };
    } catch (encodeErr) {
      // Unreachable for a fixed plan; answering is still better than a hung call.
      reportInternal(encodeErr);
      return { code: GrpcCode.UNAVAILABLE, details: 'internal error' };
    }
  };

  const send = (plan: ResponsePlan, requestId: string): UnaryReply => {
    try {
      return { message: encodeCheckResponse(plan) };
    } catch (err) {
      return internalError(err, requestId);
    }
  };

  // A cached token is answered in the same tick (maybe-async.ts); a miss when the check settles.
  const handleCheck = (request: Buffer): MaybePromise<UnaryReply> => {
    let requestId = '';
    let plan: MaybePromise<ResponsePlan>;
    try {
      const req = decodeCheckRequest(request);
      requestId = req.requestId;
      plan = opts.check(req);
    } catch (err) {
      return internalError(err, requestId);
    }
    if (!isPromise(plan)) return send(plan, requestId);
    return plan.then(
      (p) => send(p, requestId),
      (err: unknown) => internalError(err, requestId),
    );
  };

  const methods = new Map<string, GrpcMethod>([
    [CHECK_PATH, { kind: 'unary', handle: handleCheck }],
    ...healthMethods(opts.health),
  ]);
  const server = new Http2GrpcServer(methods, { ...SERVER_OPTIONS, onHandlerError: reportInternal });

  const unixPath = opts.addr.startsWith('unix:') ? socketPath(opts.addr) : undefined;
  if (unixPath) await removeStaleSocket(unixPath);

  let port: number | undefined;
  try {
    port = await server.listen(unixPath ? { path: unixPath } : parseHostPort(opts.addr));
  } catch (err) {
    throw new ClaimcheckError('grpc_bind', `cannot listen on ${opts.addr}: ${(err as Error).message}`, { cause: err });
  }

  let drained: Promise<void> | undefined;
  return {
    port: unixPath ? undefined : port,
    address: unixPath ? opts.addr : `${hostOf(opts.addr)}:${port}`,
    forceClose: () => {
      opts.health.closeWatches();
      server.forceShutdown();
    },
    drain(deadlineMs: number): Promise<void> {
      drained ??= new Promise<void>((resolve) => {
        opts.health.setServing(false);
        opts.health.closeWatches();
        const timer = setTimeout(() => server.forceShutdown(), Math.max(0, deadlineMs));
        // tryShutdown stops listening and sends GOAWAY; in-flight Checks complete.
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      return drained;
    },
  };
}

/** HOST:PORT, [IPv6]:PORT or :PORT (every interface). */
export function parseHostPort(addr: string): { host: string; port: number } {
  const parsed = splitHostPort(addr);
  if (!parsed) throw new ClaimcheckError('grpc_bind', `cannot listen on ${addr}: expected HOST:PORT, [IPv6]:PORT or unix:/path`);
  // '::' listens on IPv4 and IPv6 alike
  return { host: parsed.host || '::', port: parsed.port };
}

/** unix:/abs, unix:rel and unix:///abs, as grpc-js and Envoy write them. */
function socketPath(addr: string): string {
  const rest = addr.slice('unix:'.length);
  return rest.startsWith('//') ? rest.slice(2) : rest;
}

function hostOf(addr: string): string {
  const i = addr.lastIndexOf(':');
  return i < 0 ? addr : addr.slice(0, i);
}

/**
 * A socket file left by a killed process makes bind fail with EADDRINUSE. Remove it
 * only if it is a socket nobody answers on: never delete a regular file, and never
 * steal the socket of a live server.
 */
async function removeStaleSocket(path: string): Promise<void> {
  const st = await lstat(path).catch(() => undefined);
  if (!st) return;
  if (!st.isSocket()) throw new ClaimcheckError('grpc_bind', `${path} exists and is not a socket`);
  const live = await new Promise<boolean>((resolve) => {
    const sock = connect(path);
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
  if (live) throw new ClaimcheckError('grpc_bind', `${path} is in use by another server`);
  await unlink(path);
}
