/** Composition root for `claimcheck serve`: build the parts, wire them, start, drain on SIGTERM. */
import { payloadFindingsReporter } from './telemetry/payload-findings.js';
import type { ServeOptions } from './cli.js';
import type { Snapshot } from './compile/snapshot.js';
import type { ConfigDelivery } from './config/config-delivery.js';
import type { ConfigProblem } from './errors.js';
import { formatProblem } from './errors.js';
import { LogLimiter } from './telemetry/log-limiter.js';
import { createLogger, type Logger } from './telemetry/logger.js';
import { Metrics } from './telemetry/metrics.js';
import { compileSnapshot } from './compile/compile-snapshot.js';
import { compileSettings, createConfigSource } from './config/config-source.js';
import { KeyRegistry } from './keys/key-registry.js';
import { HealthState } from './grpc/health.js';
import { startGrpcServer } from './grpc/server.js';
import { startHttpServer } from './http/server.js';
import { startIdentityService } from './identity/identity-service.js';
import { startAuthzHttpServer, type AnswerLookup, type AuthzHttpServerOptions, type RunningAuthzHttpServer } from './http-authz/authz-http-server.js';
import { identityAliases } from './respond/header-alias.js';
import { createCheckHandler } from './pipeline/handle-check.js';
import { AnswerCache } from './pipeline/answer-cache.js';
import type { SenderContext } from './pipeline/check-sender.js';
import { DpopNonces, nonceSecretFrom } from './authn/dpop-nonce.js';
import { MemoryReplayStore } from './authn/replay-store.js';
import { RedisReplayStore } from './authn/redis-replay-store.js';
import { readFileSync } from 'node:fs';
import { ClaimcheckError } from './errors.js';
import { createDecisionLog } from './telemetry/decision-log.js';
import { TokenCache } from './authn/token-cache.js';
import { workerBridge } from './workers.js';
import { ServerTls } from './tls/server-tls.js';
import { startTracing } from './telemetry/tracing.js';
import { packageVersion } from './commands/version.js';
import type { AuthRequest } from './request.js';
import type { AnswerKey } from './pipeline/answer-cache.js';

const MAX_REJECTED_SHOWN = 100;

/** Every issuer a policy names, in its rules or as the policy's own. */
function referencedIssuers(snapshot: Snapshot): ReadonlySet<string> {
  const keys = new Set<string>();
  for (const p of snapshot.policies.values()) {
    for (const i of p.issuers ?? []) keys.add(i.key);
    for (const rule of p.rules) for (const i of rule.issuers) keys.add(i.key);
  }
  return keys;
}

function allReady(referenced: ReadonlySet<string>, status: readonly { issuer: string; ready: boolean }[]): boolean {
  let ready = 0;
  for (const s of status) if (referenced.has(s.issuer) && s.ready) ready++;
  return ready === referenced.size;
}

export interface RunningServer {
  grpcAddress: string;
  /** the HTTP authorization listener, when --authz-http-addr is set */
  authzHttpAddress?: string;
  httpPort: number;
  stop(): Promise<void>;
}

export async function serve(opts: Readonly<ServeOptions>, logger: Logger = createLogger(opts.logLevel)): Promise<RunningServer> {
  const metrics = new Metrics({ processMetrics: true });
  // In a cluster worker (--workers > 1) the primary serves HTTP and aggregates metrics.
  const bridge = workerBridge(metrics.registry);
  if (bridge) logger = logger.child({ worker: bridge.id });
  const tokenCache = new TokenCache({
    size: opts.tokenCacheSize,
    counters: {
      verifiedHit: () => metrics.countTokenCacheLookup('hit'),
      verifiedMiss: () => metrics.countTokenCacheLookup('miss'),
      rejectedHit: () => metrics.countTokenCacheLookup('rejected_hit'),
      payloadFindings: payloadFindingsReporter(metrics, logger),
    },
  });
  const sender = senderContext(opts);
  const identity = opts.identity ? await startIdentityService(opts.identity, logger) : undefined;
  // kubernetes source: secretRef Secrets come from its watches (called only after the source exists)
  const tracing = await startTracing(process.env, logger, packageVersion());
  const keys = new KeyRegistry({ logger, metrics, ...opts.keyLimits, ...(tracing ? { traceFetch: tracing.fetchSpan } : {}), readSecret: (issuer, ref) => source.readSecret?.(issuer, ref) });
  const health = new HealthState();
  let snapshot: Snapshot | undefined;
  let generation = 0;
  let keysSettled = false;
  let draining = false;

  let rejected: ConfigProblem[] = [];
  let referenced: ReadonlySet<string> = new Set();
  const shownRejected = () => rejected.slice(0, MAX_REJECTED_SHOWN).map(formatProblem);
  const applyConfig = ({ resources, refusedIssuers, rejected: refused, fatal, files }: ConfigDelivery): void => {
    const r = fatal.length === 0 ? compileSnapshot(resources, { namespace: opts.namespace, generation: generation + 1, refusedIssuers, ...compileSettings(opts) }) : undefined;
    const problems = r ? r.problems : fatal;
    if (!r?.snapshot || problems.length > 0) {
      metrics.configReloads.inc({ result: 'error' });
      metrics.configErrors.set(problems.length);
      for (const p of problems) logger.error({ file: p.file, line: p.line, kind: p.kind, name: p.name }, `invalid configuration: ${formatProblem(p)}`);
      logger.error({ problems: problems.length, serving: snapshot ? snapshot.generation : null }, snapshot ? 'configuration rejected; the last good configuration keeps serving' : 'configuration rejected; nothing to serve yet');
      return;
    }
    const next = r.snapshot;
    for (const w of r.warnings) logger.warn({ file: w.file, line: w.line, kind: w.kind, name: w.name }, `configuration warning: ${formatProblem(w)}`);
    keys.sync(next.issuers.values());
    generation = next.generation;
    snapshot = next;
    rejected = refused;
    referenced = referencedIssuers(next);
    metrics.configReloads.inc({ result: 'success' });
    metrics.configErrors.set(refused.length);
    metrics.configResources.set({ state: 'accepted' }, resources.length);
    metrics.configResources.set({ state: 'rejected' }, refused.length);
    metrics.configGeneration.set(generation);
    logger.info({ generation, files: files.length, policies: next.policies.size, issuers: next.issuers.size, rejected: refused.length }, 'configuration loaded');
  };

  const requestErrors = new LogLimiter(logger, { count: (kind) => metrics.malformedRequests.inc({ kind, protocol: 'grpc' }) });
  const source = await createConfigSource(opts, logger, metrics);
  const firstLoad = source.start(applyConfig);

  const handlerDeps = {
    getSnapshot: () => snapshot,
    keys,
    tokenCache,
    metrics,
    logger,
    decisionLog: tracing ? tracing.observe(createDecisionLog(logger, opts.decisionLog)) : createDecisionLog(logger, opts.decisionLog),
    sender,
    ...(identity ? { identityTokens: identity.minter } : {}),
    options: { unmatchedHost: opts.unmatchedHost, maxTokenBytes: opts.maxTokenBytes, reservedHeaderPrefix: opts.reservedHeaderPrefix },
  };
  const check = createCheckHandler({ ...handlerDeps, protocol: 'grpc' });
  const tls = listenerTls(opts, logger, metrics, bridge !== undefined);
  const grpc = await startGrpcServer({
    ...(tls.grpc ? { tls: tls.grpc } : {}),
    addr: opts.grpcAddr,
    check: tracing ? (req) => tracing.traceCheck(req, () => check(req)) : check,
    health,
    listener: opts.grpcListener,
    onInternalError: (err) => requestErrors.error('internal_error', { err: err instanceof Error ? err.message : String(err) }, 'internal error in Check adapter; denied with 503'),
    onRefused: (refusal, err) => requestErrors.error(refusal, err ? { err: err instanceof Error ? err.message : String(err) } : {}, `CheckRequest refused (${refusal}); denied`),
  });

  const hasIdentityAlias = (headers: ReadonlyMap<string, readonly string[]>) => snapshot !== undefined && identityAliases(headers.keys(), snapshot, opts.reservedHeaderPrefix) !== undefined;
  const answerCache = opts.answerCacheSize > 0 ? new AnswerCache(opts.answerCacheSize) : undefined;
  const untracedHttpCheck = createCheckHandler({ ...handlerDeps, protocol: 'http', ...(answerCache ? { answerCache } : {}) });
  const httpCheck = tracing ? Object.assign((req: AuthRequest, key?: AnswerKey) => tracing.traceCheck(req, () => untracedHttpCheck(req, key)), { cached: untracedHttpCheck.cached }) : untracedHttpCheck;
  const answers: AnswerLookup | undefined = answerCache ? { sources: () => snapshot, cached: httpCheck.cached } : undefined;
  const authzHttp = opts.authzHttpAddr !== undefined ? await startAuthzListener(opts.authzHttpAddr, { check: httpCheck, answers, hasIdentityAlias, ...(tls.authzHttp ? { tls: tls.authzHttp } : {}) }, logger, metrics) : undefined;

  // --ready-requires-keys: a replica whose IdP is unreachable leaves the Service rather than answer 503s
  const keysUsable = () => !opts.readyRequiresKeys || allReady(referenced, keys.status());
  const isReady = () => !draining && !!snapshot && keysSettled && keysUsable();
  const http = bridge ? undefined : await startHttpServer({
    addr: opts.httpAddr,
    ...(tls.http ? { tls: tls.http } : {}),
    registry: metrics.registry,
    ...(identity ? { wellKnown: identity.documents } : {}),
    readiness: () => ({
      ready: isReady(),
      detail: {
        draining,
        configGeneration: snapshot?.generation ?? null,
        ...(opts.readyRequiresKeys ? { requiresKeys: true } : {}),
        issuers: keys.status(),
        rejected: shownRejected(),
        ...(rejected.length > MAX_REJECTED_SHOWN ? { rejectedNotShown: rejected.length - MAX_REJECTED_SHOWN } : {}),
      },
    }),
  });

  await firstLoad;
  if (snapshot) {
    await keys.waitReady(opts.keysReadyTimeoutMs).catch(() => undefined);
  }
  keysSettled = true;
  source.startStatus?.({ keyStatus: () => keys.status(), identitySuffix: bridge ? `-w${bridge.id}` : '' });
  const updateServing = () => {
    const serving = isReady();
    health.setServing(serving);
    metrics.ready.set(serving ? 1 : 0);
    bridge?.report(serving, snapshot?.generation ?? null, keys.status(), shownRejected());
  };
  updateServing();
  // Until the first valid configuration arrives, flip to SERVING as soon as it does.
  const readinessTimer = setInterval(updateServing, 250);
  readinessTimer.unref();
  if (bridge) {
    logger.info({ grpc: grpc.address, pid: process.pid, config: source.description, ready: isReady() }, 'worker serving');
    bridge.listening(grpc.address, authzHttp?.address);
  } else {
    logger.info({ grpc: grpc.address, ...(authzHttp ? { authzHttp: authzHttp.address } : {}), http: `${opts.httpAddr.replace(/:\d+$/, '')}:${http!.port}`, workers: 1, workersFrom: opts.workersFrom, config: source.description, ready: isReady() }, 'claimcheck serving');
  }

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      draining = true;
      updateServing();
      clearInterval(readinessTimer);
      logger.info({ drainTimeoutMs: opts.drainTimeoutMs }, 'draining');
      const sourceStopped = source.stop(); // kubernetes: releases the status Lease meanwhile
      await Promise.all([grpc.drain(opts.drainTimeoutMs), authzHttp?.drain(opts.drainTimeoutMs)]);
      await sourceStopped;
      await http?.close();
      keys.close();
      identity?.stop();
      for (const t of Object.values(tls)) t?.close();
      await sender.replay.close();
      await tracing?.shutdown().catch(() => undefined);
      logger.info('stopped');
      logger.flush();
      bridge?.done();
    })());

  return { grpcAddress: grpc.address, ...(authzHttp ? { authzHttpAddress: authzHttp.address } : {}), httpPort: http?.port ?? 0, stop };
}

function senderContext(opts: Readonly<ServeOptions>): SenderContext {
  const replay = opts.replayStore === 'memory' ? new MemoryReplayStore(opts.replayStoreSize) : new RedisReplayStore(opts.replayStore);
  if (opts.dpopNonceSecretFile === undefined) return { nonces: new DpopNonces(undefined), replay };
  try {
    return { nonces: new DpopNonces(nonceSecretFrom(readFileSync(opts.dpopNonceSecretFile))), replay };
  } catch (err) {
    void replay.close();
    throw new ClaimcheckError('bad_flag', `--dpop-nonce-secret-file ${opts.dpopNonceSecretFile}: ${(err as Error).message}`, { cause: err });
  }
}

/** Every listener's TLS, read and checked before any listens: bad files fail the start. In a worker the primary serves HTTP. */
function listenerTls(opts: Readonly<ServeOptions>, logger: Logger, metrics: Metrics, inWorker: boolean): { grpc?: ServerTls; http?: ServerTls; authzHttp?: ServerTls } {
  const deps = { logger, report: metrics.tls };
  const { grpc, http, authzHttp } = opts.tls;
  return {
    ...(grpc ? { grpc: new ServerTls('grpc', grpc, deps) } : {}),
    ...(http && !inWorker ? { http: new ServerTls('http', http, deps) } : {}),
    ...(authzHttp ? { authzHttp: new ServerTls('authz-http', authzHttp, deps) } : {}),
  };
}

function startAuthzListener(addr: string, parts: Pick<AuthzHttpServerOptions, 'check' | 'answers' | 'hasIdentityAlias' | 'tls'>, logger: Logger, metrics: Metrics): Promise<RunningAuthzHttpServer> {
  const errors = new LogLimiter(logger, { count: (kind) => metrics.malformedRequests.inc({ kind, protocol: 'http' }) });
  return startAuthzHttpServer({
    addr,
    ...parts,
    onInternalError: (err) => errors.error('internal_error', { err: err instanceof Error ? err.message : String(err) }, 'internal error in the HTTP authorization listener; denied with 503'),
    onRefused: (refusal) => errors.error(refusal, {}, `HTTP authorization request refused (${refusal}); denied`),
  });
}
