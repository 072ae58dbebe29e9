import { lstat, unlink } from 'node:fs/promises';
import { connect } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { ClaimcheckError } from '../errors.js';
import type { AuthRequest } from '../request.js';
import type { DeniedPlan, ResponsePlan } from '../respond/plan.js';
import { healthHandlers, type HealthState } from './health.js';
import { loadProtos } from './load-protos.js';
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
export const SERVER_OPTIONS: grpc.ServerOptions = {
  'grpc.max_receive_message_length': 4 * 1024 * 1024,
  'grpc.max_send_message_length': 4 * 1024 * 1024,
  'grpc.keepalive_time_ms': 60_000,
  'grpc.keepalive_timeout_ms': 20_000,
  'grpc.max_connection_age_ms': 10 * 60_000,
  'grpc.max_connection_age_grace_ms': 30_000,
};

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
  const protos = loadProtos();
  const checkDef = protos.authorization.Check;
  if (!checkDef) throw new ClaimcheckError('grpc_proto', 'Authorization service has no Check method');

  /*
   * Decoding and encoding happen inside the handler, not in grpc-js: a request that
   * fails to decode or a response that fails to encode would otherwise become an RPC
   * error, which Envoy with failure_mode_allow (Istio failOpen) lets through.
   * wire/ does both straight between bytes and the domain types: protobufjs objects
   * cost ~16% of a Check's CPU.
   */
  const authorization: grpc.ServiceDefinition = {
    Check: {
      ...checkDef,
      requestDeserialize: (buf: Buffer) => buf,
      responseSerialize: (buf: Buffer) => buf,
    },
  };

  const reportInternal = (err: unknown) => {
    try {
      opts.onInternalError?.(err);
    } catch {
      // a failing reporter must not turn a 503 into an RPC error
    }
  };

  /** Any failure from here on is a 503 deny, never an RPC error (see above). */
  const internalError = (err: unknown, requestId: string, callback: grpc.sendUnaryData<Buffer>) => {
    reportInternal(err);
    let fallback: Buffer;
    try {
      fallback = encodeCheckResponse(internalErrorPlan(requestId));
    } catch (encodeErr) {
      // Unreachable for a fixed plan; answering is still better than a hung call.
      reportInternal(encodeErr);
      callback({ code: grpc.status.UNAVAILABLE, details: 'internal error' }, null);
      return;
    }
    callback(null, fallback);
  };

  const send = (plan: ResponsePlan, requestId: string, callback: grpc.sendUnaryData<Buffer>) => {
    let buf: Buffer;
    try {
      buf = encodeCheckResponse(plan);
    } catch (err) {
      internalError(err, requestId, callback);
      return;
    }
    callback(null, buf);
  };

  // A cached token is answered in the same tick (maybe-async.ts); a miss when the check settles.
  const handleCheck: grpc.handleUnaryCall<Buffer, Buffer> = (call, callback) => {
    let requestId = '';
    let plan: MaybePromise<ResponsePlan>;
    try {
      const req = decodeCheckRequest(call.request);
      requestId = req.requestId;
      plan = opts.check(req);
    } catch (err) {
      internalError(err, requestId, callback);
      return;
    }
    if (!isPromise(plan)) {
      send(plan, requestId, callback);
      return;
    }
    plan.then(
      (p) => send(p, requestId, callback),
      (err: unknown) => internalError(err, requestId, callback),
    );
  };

  const server = new grpc.Server(SERVER_OPTIONS);
  server.addService(authorization, { Check: handleCheck });
  server.addService(protos.health, healthHandlers(opts.health));

  const unixPath = opts.addr.startsWith('unix:') ? socketPath(opts.addr) : undefined;
  if (unixPath) await removeStaleSocket(unixPath);

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(opts.addr, grpc.ServerCredentials.createInsecure(), (err, boundPort) => {
      if (err) reject(new ClaimcheckError('grpc_bind', `cannot listen on ${opts.addr}: ${err.message}`, { cause: err }));
      else resolve(boundPort);
    });
  });

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

/** grpc-js accepts unix:/abs, unix:rel and unix:///abs. */
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
