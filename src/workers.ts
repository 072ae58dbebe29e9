/**
 * Multi-core serving with node:cluster (`--workers N`, N > 1).
 *
 * The primary forks N workers and serves HTTP itself: /metrics sums every worker's
 * registry (prom-client's AggregatorRegistry, over the cluster IPC channel), /readyz is
 * ready only while every worker is. Each worker is a complete `claimcheck serve` without
 * the HTTP server: it loads the configuration and keys itself (N config watches and N
 * JWKS fetchers — simple, and a worker never waits on another to decide), and binds the
 * gRPC TCP port, which cluster shares (the primary accepts and hands connections out
 * round-robin; an HTTP/2 connection stays on its worker for its lifetime).
 *
 * A unix socket (the sidecar topology) is served by one process: workers cannot share
 * a socket path, and a sidecar serves one pod anyway.
 *
 * SIGTERM/SIGINT: the primary reports not ready, sends SIGTERM to every worker (each
 * drains like a single process does) and exits when all have exited. A worker that dies
 * otherwise is restarted, with a backoff when it keeps dying; a worker that dies before it
 * ever served, while none has served yet, stops the whole server (e.g. the port is taken).
 */
import cluster, { type Worker } from 'node:cluster';

import { clusterRegistry, exposeToPrimary, type Registry } from './telemetry/cluster-metrics.js';
import type { ServeOptions } from './cli.js';
import { startHttpServer } from './http/server.js';
import { startIdentityService } from './identity/identity-service.js';
import { ServerTls } from './tls/server-tls.js';
import type { Logger } from './telemetry/logger.js';

const STATUS = 'claimcheck:status';

/** What a worker tells the primary: sent when it starts serving and whenever readiness changes. */
interface StatusMessage {
  type: typeof STATUS;
  listening?: string;
  /** the worker's HTTP authorization listener (--authz-http-addr), bound with the gRPC one */
  authzHttp?: string;
  ready: boolean;
  configGeneration: number | null;
  /** the worker's per-issuer key state, for /readyz */
  issuers?: unknown[];
  /** the rejected resources, for /readyz */
  rejected?: string[];
}

interface WorkerState {
  worker: Worker;
  startedMs: number;
  listening?: string;
  authzHttp?: string;
  ready: boolean;
  configGeneration: number | null;
  issuers?: unknown[];
  rejected?: string[];
}

export interface WorkerBridge {
  id: number;
  /** the worker's gRPC server (and HTTP authorization listener, when set) is bound */
  listening(address: string, authzHttp?: string): void;
  report(ready: boolean, configGeneration: number | null, issuers?: unknown[], rejected?: string[]): void;
  /** after draining: close the IPC channel so the process can exit */
  done(): void;
}

/** In a cluster worker: expose the registry to the primary's aggregation and report status. */
export function workerBridge(registry: Registry): WorkerBridge | undefined {
  if (!cluster.isWorker || !process.send) return undefined;
  exposeToPrimary(registry);
  let last: string | undefined;
  let lastSent = 0;
  const send = (m: StatusMessage) => {
    if (process.connected) process.send!(m);
  };
  return {
    id: cluster.worker!.id,
    listening: (address, authzHttp) => send({ type: STATUS, listening: address, ...(authzHttp ? { authzHttp } : {}), ready: false, configGeneration: null }),
    report: (ready, configGeneration, issuers, rejected) => {
      // Key state changes without readiness changing; send it when it changes, leaving
      // out the counters that move every second, and at least every 5 s so staleness stays current.
      const steady = issuers?.map((i) => {
        const { staleSeconds: _s, ...rest } = i as Record<string, unknown>;
        return rest;
      });
      const key = `${ready}/${configGeneration}/${JSON.stringify(steady ?? null)}/${JSON.stringify(rejected ?? null)}`;
      if (key === last && Date.now() - lastSent < 5000) return;
      last = key;
      lastSent = Date.now();
      send({ type: STATUS, ready, configGeneration, issuers, ...(rejected ? { rejected } : {}) });
    },
    done: () => {
      if (process.connected) cluster.worker!.disconnect();
    },
  };
}

/** The primary: fork, supervise, aggregate, drain. Resolves with the exit code. */
export async function runPrimary(opts: Readonly<ServeOptions>, logger: Logger): Promise<number> {
  const aggregated = clusterRegistry();
  const states = new Map<number, WorkerState>();
  let draining = false;
  let everServed = false;
  let recentDeaths = 0;
  let fatal: ((code: number) => void) | undefined;
  const finished = new Promise<number>((resolve) => (fatal = resolve));

  const fork = () => {
    const worker = cluster.fork();
    states.set(worker.id, { worker, startedMs: Date.now(), ready: false, configGeneration: null });
    worker.on('message', (m: StatusMessage) => {
      const s = states.get(worker.id);
      if (!s || m?.type !== STATUS) return;
      if (m.listening) {
        s.listening = m.listening;
        if (m.authzHttp) s.authzHttp = m.authzHttp;
        onListening();
      } else {
        s.ready = m.ready;
        s.configGeneration = m.configGeneration;
        if (m.issuers) s.issuers = m.issuers;
        if (m.rejected) s.rejected = m.rejected;
      }
    });
  };

  let announced = false;
  let http: Awaited<ReturnType<typeof startHttpServer>> | undefined;
  const onListening = () => {
    const listening = [...states.values()].filter((s) => s.listening);
    if (listening.length > 0) everServed = true;
    if (announced || listening.length < opts.workers || !http) return;
    announced = true;
    logger.info(
      { grpc: listening[0]!.listening, ...(listening[0]!.authzHttp ? { authzHttp: listening[0]!.authzHttp } : {}), http: `${opts.httpAddr.replace(/:\d+$/, '')}:${http.port}`, workers: opts.workers, workersFrom: opts.workersFrom, pid: process.pid, ready: isReady() },
      'claimcheck serving',
    );
  };

  const isReady = () => !draining && states.size === opts.workers && [...states.values()].every((s) => s.ready);

  cluster.on('exit', (worker, code, signal) => {
    const s = states.get(worker.id);
    states.delete(worker.id);
    if (draining) return;
    if (!everServed) {
      logger.error({ worker: worker.id, code, signal }, 'worker exited before serving; stopping');
      void stopAll().then(() => fatal?.(1));
      return;
    }
    // Short-lived workers back off (1 s doubling to 30 s) so a crash loop does not spin a core.
    const lived = Date.now() - (s?.startedMs ?? 0);
    recentDeaths = lived < 10_000 ? recentDeaths + 1 : 0;
    const delay = recentDeaths === 0 ? 0 : Math.min(30_000, 1000 * 2 ** (recentDeaths - 1));
    logger.error({ worker: worker.id, pid: worker.process.pid, code, signal, restartInMs: delay }, 'worker exited; restarting it');
    setTimeout(() => {
      if (!draining) fork();
    }, delay).unref();
  });

  const stopAll = async () => {
    draining = true;
    const exits = [...states.values()].map(
      (s) =>
        new Promise<void>((resolve) => {
          if (s.worker.isDead()) return resolve();
          s.worker.once('exit', () => resolve());
          s.worker.process.kill('SIGTERM');
        }),
    );
    // Each worker force-closes at its own drain deadline; this only covers a hung one.
    const limit = setTimeout(() => {
      for (const s of states.values()) if (!s.worker.isDead()) s.worker.process.kill('SIGKILL');
    }, opts.drainTimeoutMs + 5000);
    await Promise.all(exits);
    clearTimeout(limit);
    await http?.close();
    httpTls?.close();
    identity?.stop();
  };

  // the workers sign; the primary serves the JWKS of the same directory
  const identity = opts.identity ? await startIdentityService(opts.identity, logger) : undefined;
  // bad TLS files fail the start here, once, rather than in every worker in turn
  if (opts.tls.grpc) new ServerTls('grpc', opts.tls.grpc, { logger }).close();
  if (opts.tls.authzHttp) new ServerTls('authz-http', opts.tls.authzHttp, { logger }).close();
  // its reloads are logged; the TLS metrics are the workers' (their registries are the ones summed)
  const httpTls = opts.tls.http ? new ServerTls('http', opts.tls.http, { logger }) : undefined;
  http = await startHttpServer({
    addr: opts.httpAddr,
    ...(httpTls ? { tls: httpTls } : {}),
    registry: aggregated,
    ...(identity ? { wellKnown: identity.documents } : {}),
    readiness: () => ({
      ready: isReady(),
      detail: {
        draining,
        workers: [...states.values()].map((s) => ({ id: s.worker.id, pid: s.worker.process.pid, ready: s.ready, configGeneration: s.configGeneration })),
        // Every worker loads the same keys; the first worker's view answers for the process.
        issuers: [...states.values()].find((s) => s.issuers)?.issuers ?? [],
        rejected: [...states.values()].find((s) => s.rejected)?.rejected ?? [],
      },
    }),
  });
  for (let i = 0; i < opts.workers; i++) fork();

  const onSignal = (sig: string) => {
    if (draining) return;
    process.stderr.write(`claimcheck: ${sig} received, draining ${states.size} workers\n`);
    logger.info({ workers: states.size, drainTimeoutMs: opts.drainTimeoutMs }, 'draining');
    void stopAll().then(() => {
      logger.info('stopped');
      logger.flush();
      fatal?.(0);
    });
  };
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  process.once('SIGINT', () => onSignal('SIGINT'));
  return finished;
}
