import { ClaimcheckError } from '../errors.js';
import type { MaybePromise } from '../maybe-async.js';
import type { AuthRequest } from '../request.js';
import type { ResponsePlan } from '../respond/plan.js';
import type { StreamRefusal } from '../respond/request-refusals.js';
import { createCheckMethod } from './check-method.js';
import { GrpcJsServer } from './grpc-js-server.js';
import { healthMethods, type HealthState } from './health.js';
import { hostOf, parseHostPort, removeStaleSocket, socketPath } from '../listen-address.js';
import { Http2GrpcServer, type GrpcMethod } from './transport/http2-grpc-server.js';
import type { ServerTls } from '../tls/server-tls.js';

export { parseHostPort } from '../listen-address.js';

/** The listener's flags (docs/operations.md "The gRPC server", docs/security.md). */
export interface GrpcListenerOptions {
  /** claimcheck's own transport on node:http2, or grpc-js's Server */
  server: 'claimcheck' | 'grpc-js';
  maxConcurrentStreams: number;
  maxConnectionBufferedBytes: number;
  requestMessageTimeoutMs: number;
}

/**
 * - 256 streams per connection: Envoy multiplexes Checks on a few connections, with as
 *   many streams in flight as requests waiting on ext_authz, and opens another connection
 *   when one is at the server's limit (Envoy docs, "Connection pooling"). The limit is
 *   also what node:http2 tears down at once when it ends a connection that ignores it:
 *   about 40 µs a stream on the event loop, so 1,000 streams stalled every Check ~40 ms.
 * - 16 MiB of request messages per connection: three of the largest (4 MiB) at once; a
 *   CheckRequest is a few KiB unless with_request_body sends a body.
 * - 10 s for a request message, then the stream is reset: Envoy's ext_authz timeout is
 *   200 ms by default (Istio says to set one, e.g. 0.5 s); Envoy has reset it long before.
 */
export const DEFAULT_LISTENER: GrpcListenerOptions = {
  server: 'claimcheck',
  maxConcurrentStreams: 256,
  maxConnectionBufferedBytes: 16 * 1024 * 1024,
  requestMessageTimeoutMs: 10_000,
};

export interface GrpcServerOptions {
  /** host:port or unix:/path */
  addr: string;
  check: (req: AuthRequest) => MaybePromise<ResponsePlan>;
  health: HealthState;
  listener?: Partial<GrpcListenerOptions>;
  onInternalError?: (err: unknown) => void;
  /** a request denied or refused before a decision (undecodable, too large, too slow, connection busy) */
  onRefused?: (refusal: StreamRefusal, err?: unknown) => void;
  /** --grpc-tls-* */
  tls?: ServerTls;
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
  ...DEFAULT_LISTENER,
};

export const CHECK_PATH = '/envoy.service.auth.v3.Authorization/Check';

export async function startGrpcServer(opts: GrpcServerOptions): Promise<RunningGrpcServer> {
  const { server: kind, ...limits } = { ...DEFAULT_LISTENER, ...opts.listener };
  const methods = new Map<string, GrpcMethod>([[CHECK_PATH, createCheckMethod(opts)], ...healthMethods(opts.health)]);
  const transportOptions = {
    ...SERVER_OPTIONS,
    ...limits,
    onHandlerError: (err: unknown) => opts.onInternalError?.(err),
    onRefused: (refusal: StreamRefusal) => opts.onRefused?.(refusal),
    ...(opts.tls ? { tls: opts.tls } : {}),
  };
  const server = kind === 'grpc-js' ? new GrpcJsServer(methods, transportOptions) : new Http2GrpcServer(methods, transportOptions);

  const unixPath = opts.addr.startsWith('unix:') ? socketPath(opts.addr) : undefined;
  if (unixPath) await removeStaleSocket(unixPath);

  let port: number | undefined;
  try {
    port = await server.listen(unixPath ? { path: unixPath } : parseHostPort(opts.addr));
  } catch (err) {
    throw new ClaimcheckError('listen_failed', `cannot listen on ${opts.addr}: ${(err as Error).message}`, { cause: err });
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
        // At the deadline the drain is over whether or not every session has reported its
        // close: a socket whose last write never completes would otherwise hold shutdown
        // past the pod's grace period.
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, Math.max(0, deadlineMs));
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
