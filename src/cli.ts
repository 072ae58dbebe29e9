/** argv → typed, frozen options for each command. Validated once; a bad flag is one clear line and exit 2. */
import { existsSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { usableCpus, type CpuCount } from './cli/cpu-count.js';
import { fileURLToPath } from 'node:url';
import { badFlag } from './cli/flag.js';
import { readFlags, type FlagValues } from './cli/read-flags.js';
import { grpcListenerOptions } from './cli/grpc-flags.js';
import { tlsFilesFor } from './cli/tls-flags.js';
import { keyLimitsOf, type KeyLimits } from './cli/limit-flags.js';
import type { TlsFiles } from './tls/server-tls.js';
import type { GrpcListenerOptions } from './grpc/server.js';
import type { DecisionLogOptions } from './telemetry/decision-log.js';
import type { KubernetesOptions } from './config/kubernetes/kubernetes-options.js';

export const BUNDLED_EXAMPLES = fileURLToPath(new URL('../examples', import.meta.url));

/** Where the file source's directory came from: a flag (or its variable), ./config, or the bundled demo. */
export type ConfigDirOrigin = 'flag' | 'cwd' | 'bundled';

export interface ServeOptions {
  configSource: 'file' | 'kubernetes';
  configDir: string;
  configDirOrigin: ConfigDirOrigin;
  grpcAddr: string;
  grpcListener: Readonly<GrpcListenerOptions>;
  httpAddr: string;
  /** the HTTP authorization listener (src/http-authz/); off when undefined */
  authzHttpAddr?: string;
  /** TLS per listener (src/tls/); plaintext where undefined */
  tls: Readonly<{ grpc?: TlsFiles; http?: TlsFiles; authzHttp?: TlsFiles }>;
  unmatchedHost: 'deny' | 'allow';
  logLevel: string;
  namespace: string;
  reservedHeaderPrefix: string;
  maxTokenBytes: number;
  drainTimeoutMs: number;
  keysReadyTimeoutMs: number;
  /** readiness also needs usable keys for every referenced issuer */
  readyRequiresKeys: boolean;
  /** --key-fetch-wait, --key-fetch-timeout, --jwks-max-*, --discovery-refresh-interval */
  keyLimits: Readonly<KeyLimits>;
  /** --cel-cost-limit */
  celCostLimit: number;
  kubernetes: Readonly<KubernetesServeOptions>;
  /** processes serving gRPC; 1 = no cluster (src/workers.ts) */
  workers: number;
  /** what set `workers`: the flag, or for auto the limit that decided (cli/cpu-count.ts) */
  workersFrom: 'flag' | 'unix-socket' | CpuCount['from'];
  /** verified tokens kept (src/authn/token-cache.ts); 0 disables the cache */
  tokenCacheSize: number;
  /** allowed answers kept by the HTTP listener (src/pipeline/answer-cache.ts); 0 disables it */
  answerCacheSize: number;
  /** DPoP nonce secret (src/authn/dpop-nonce.ts); absent: a random one per process */
  dpopNonceSecretFile?: string;
  /** `memory` or a redis:// URL */
  replayStore: string;
  /** proofs the memory replay store holds */
  replayStoreSize: number;
  /** src/telemetry/decision-log.ts */
  decisionLog: Readonly<DecisionLogOptions>;
  /** identity tokens (src/identity/); both set or neither */
  identity?: Readonly<{ issuer: string; keyDir: string; signingKid?: string }>;
}

/** --config-source kubernetes (docs/kubernetes.md) */
export type KubernetesServeOptions = KubernetesOptions;

export interface CheckOptions {
  configDir: string;
  namespace: string;
  host: string;
  path: string;
  method: string;
  token?: string;
  headers: [string, string][];
  policy?: string;
  json: boolean;
  explainKeys: boolean;
  keyWaitMs: number;
  maxTokenBytes: number;
  /** absent: the defaults */
  keyLimits?: Readonly<KeyLimits>;
  celCostLimit?: number;
}

export function defaultConfigDir(): { dir: string; origin: ConfigDirOrigin } {
  return existsSync('config') ? { dir: 'config', origin: 'cwd' } : { dir: BUNDLED_EXAMPLES, origin: 'bundled' };
}

function configDirOf(v: FlagValues): { dir: string; origin: ConfigDirOrigin } {
  return v['config-dir'] !== undefined ? { dir: v['config-dir'], origin: 'flag' } : defaultConfigDir();
}

function namespaceOf(v: FlagValues): string {
  return v.namespace ?? process.env.POD_NAMESPACE ?? 'default';
}

export function parseServe(argv: string[], env: NodeJS.ProcessEnv = process.env): Readonly<ServeOptions> {
  const { values: v } = readFlags('serve', argv, env);
  const config = configDirOf(v);
  // The bundled examples trust a published key: a demo stays on loopback unless told otherwise.
  const host = v['config-source'] === 'file' && config.origin === 'bundled' ? '127.0.0.1' : '0.0.0.0';
  const grpcAddr = v['grpc-addr'] ?? `${host}:9191`;
  const namespace = namespaceOf(v);
  return Object.freeze({
    configSource: v['config-source'],
    configDir: config.dir,
    configDirOrigin: config.origin,
    grpcAddr,
    grpcListener: grpcListenerOptions(v),
    httpAddr: v['http-addr'] ?? `${host}:9090`,
    ...(v['authz-http-addr'] !== undefined ? { authzHttpAddr: v['authz-http-addr'] } : {}),
    tls: tlsOptions(v),
    unmatchedHost: v['unmatched-host'],
    logLevel: v['log-level'],
    namespace,
    reservedHeaderPrefix: v['reserved-header-prefix'],
    maxTokenBytes: v['max-token-bytes'],
    drainTimeoutMs: v['drain-timeout'],
    keysReadyTimeoutMs: v['keys-ready-timeout'],
    readyRequiresKeys: v['ready-requires-keys'],
    keyLimits: keyLimitsOf(v),
    celCostLimit: v['cel-cost-limit'],
    kubernetes: kubernetesOptions(v, namespace),
    ...workerCount(v.workers, grpcAddr, v['authz-http-addr'], () => usableCpus()),
    tokenCacheSize: v['token-cache-size'],
    answerCacheSize: v['answer-cache-size'],
    ...(v['dpop-nonce-secret-file'] !== undefined ? { dpopNonceSecretFile: v['dpop-nonce-secret-file'] } : {}),
    replayStore: v['replay-store'],
    replayStoreSize: v['replay-store-size'],
    ...identityOptions(v),
    decisionLog: Object.freeze({
      enabled: v['decision-log'],
      allowSample: v['decision-log-allow-sample'],
      subject: v['decision-log-subject'],
      tokenId: v['decision-log-jti'],
    }),
  });
}

function tlsOptions(v: FlagValues): ServeOptions['tls'] {
  const [grpc, http, authzHttp] = [tlsFilesFor(v, 'grpc'), tlsFilesFor(v, 'http'), tlsFilesFor(v, 'authz-http')];
  if (authzHttp && v['authz-http-addr'] === undefined) badFlag('--authz-http-tls-cert needs --authz-http-addr');
  return Object.freeze({ ...(grpc ? { grpc } : {}), ...(http ? { http } : {}), ...(authzHttp ? { authzHttp } : {}) });
}

function identityOptions(v: FlagValues): { identity?: ServeOptions['identity'] } {
  const issuer = v['identity-issuer'];
  const keyDir = v['identity-key-dir'];
  if (issuer === undefined && keyDir === undefined) {
    if (v['identity-signing-key'] !== undefined) badFlag('--identity-signing-key needs --identity-issuer and --identity-key-dir');
    return {};
  }
  if (issuer === undefined || keyDir === undefined) badFlag('--identity-issuer and --identity-key-dir go together');
  const signingKid = v['identity-signing-key'];
  return { identity: Object.freeze({ issuer, keyDir, ...(signingKid !== undefined ? { signingKid } : {}) }) };
}

/** auto: one per usable CPU (cli/cpu-count.ts); one on a unix socket (a sidecar serves one pod, and workers cannot share a socket path). */
function workerCount(n: number | 'auto', grpcAddr: string, authzHttpAddr: string | undefined, cpus: () => CpuCount): Pick<ServeOptions, 'workers' | 'workersFrom'> {
  const unix = grpcAddr.startsWith('unix:') || !!authzHttpAddr?.startsWith('unix:');
  if (n === 'auto') {
    if (unix) return { workers: 1, workersFrom: 'unix-socket' };
    const c = cpus();
    return { workers: c.cpus, workersFrom: c.from };
  }
  if (n > 1 && unix) badFlag(`--workers ${n} cannot serve a unix socket: use --workers 1 (sidecar) or TCP listen addresses`);
  return { workers: n, workersFrom: 'flag' };
}

function kubernetesOptions(v: FlagValues, namespace: string): Readonly<KubernetesServeOptions> {
  return Object.freeze({
    watchNamespaces: v['watch-namespaces'],
    ...(v.kubeconfig ? { kubeconfig: v.kubeconfig } : {}),
    leaderElectionNamespace: v['leader-election-namespace'] ?? namespace,
    leaseName: v['lease-name'],
    leaseDurationMs: v['lease-duration'],
    // like client-go: hostname (the pod name in a cluster) plus a random suffix, unique per process
    podName: v['pod-name'] ?? process.env.POD_NAME ?? `${hostname()}_${randomUUID().slice(0, 8)}`,
    relistIntervalMs: v['kube-relist-interval'],
    watchIdleTimeoutMs: v['kube-watch-idle-timeout'],
  });
}

export function parseCheck(argv: string[], env: NodeJS.ProcessEnv = process.env): Readonly<CheckOptions> {
  const { values: v } = readFlags('check', argv, env);
  if (!v.host) badFlag('--host is required');
  if (!v.path) badFlag('--path is required');
  return Object.freeze({
    configDir: configDirOf(v).dir,
    namespace: namespaceOf(v),
    host: v.host,
    path: v.path,
    method: v.method,
    ...(v.token !== undefined ? { token: v.token } : {}),
    headers: v.header,
    ...(v.policy !== undefined ? { policy: v.policy } : {}),
    json: v.json,
    explainKeys: v['explain-keys'],
    keyWaitMs: v['key-wait'],
    maxTokenBytes: v['max-token-bytes'],
    keyLimits: keyLimitsOf(v),
    celCostLimit: v['cel-cost-limit'],
  });
}

export function parseValidate(argv: string[], env: NodeJS.ProcessEnv = process.env): { paths: string[]; namespace: string; celCostLimit: number } {
  const { values, positionals } = readFlags('validate', argv, env, true);
  if (positionals.length === 0) badFlag('validate needs at least one FILE or DIR');
  return { paths: positionals, namespace: namespaceOf(values), celCostLimit: values['cel-cost-limit'] };
}

export interface TestOptions {
  paths: string[];
  namespace: string;
  maxTokenBytes: number;
  celCostLimit: number;
}

export function parseTest(argv: string[], env: NodeJS.ProcessEnv = process.env): TestOptions {
  const { values, positionals } = readFlags('test', argv, env, true);
  if (positionals.length === 0) badFlag('test needs at least one FILE or DIR');
  return { paths: positionals, namespace: namespaceOf(values), maxTokenBytes: values['max-token-bytes'], celCostLimit: values['cel-cost-limit'] };
}

export { parseDemoToken, parseHealthcheck, type DemoTokenOptions, type HealthcheckOptions } from './cli/tool-commands.js';
