/** argv → typed, frozen options. Validated once; a bad flag is one clear line and exit 2. */
import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { availableParallelism, hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { splitHostPort } from './host-port.js';
import { parseDuration } from './model/duration.js';
import { ClaimcheckError } from './errors.js';
import type { DecisionLogOptions } from './telemetry/decision-log.js';

export const BUNDLED_EXAMPLES = fileURLToPath(new URL('../examples', import.meta.url));

export interface ServeOptions {
  configSource: 'file' | 'kubernetes';
  configDir: string;
  grpcAddr: string;
  httpAddr: string;
  unmatchedHost: 'deny' | 'allow';
  logLevel: string;
  namespace: string;
  reservedHeaderPrefix: string;
  maxTokenBytes: number;
  drainTimeoutMs: number;
  keysReadyTimeoutMs: number;
  kubernetes: Readonly<KubernetesServeOptions>;
  /** processes serving gRPC; 1 = no cluster (src/workers.ts) */
  workers: number;
  /** verified tokens kept (src/authn/token-cache.ts); 0 disables the cache */
  tokenCacheSize: number;
  /** src/telemetry/decision-log.ts */
  decisionLog: Readonly<DecisionLogOptions>;
}

/** --config-source kubernetes (docs/kubernetes.md) */
export interface KubernetesServeOptions {
  /** empty: all namespaces */
  watchNamespaces: readonly string[];
  kubeconfig?: string;
  leaderElectionNamespace: string;
  leaseName: string;
  leaseDurationMs: number;
  /** this replica's identity in the Lease */
  podName: string;
  relistIntervalMs: number;
  watchIdleTimeoutMs: number;
}

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
  maxTokenBytes: number;
}

function usage(msg: string): never {
  throw new ClaimcheckError('bad_flag', msg);
}

/** Every flag also reads CLAIMCHECK_<FLAG> (dashes → underscores, upper case). */
function fromEnv(flag: string): string | undefined {
  return process.env[`CLAIMCHECK_${flag.replace(/-/g, '_').toUpperCase()}`];
}

function parse(argv: string[], spec: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options: spec, strict: true, allowPositionals });
  } catch (e) {
    usage((e as Error).message.split('\n')[0]!);
  }
}

function str(values: Record<string, unknown>, flag: string, def?: string): string | undefined {
  const v = values[flag];
  if (typeof v === 'string') return v;
  return fromEnv(flag) ?? def;
}

function oneOf<T extends string>(flag: string, v: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(v)) usage(`--${flag} must be one of ${allowed.join(', ')} (got "${v}")`);
  return v as T;
}

function positiveInt(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) usage(`--${flag} must be a positive integer (got "${v}")`);
  return n;
}

function nonNegativeInt(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) usage(`--${flag} must be a non-negative integer (got "${v}")`);
  return n;
}

function bool(flag: string, v: string): boolean {
  if (v === 'true') return true;
  if (v === 'false') return false;
  usage(`--${flag} must be true or false (got "${v}")`);
}

function fraction(flag: string, v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) usage(`--${flag} must be a number from 0 to 1 (got "${v}")`);
  return n;
}

function durationMs(flag: string, v: string): number {
  try {
    return parseDuration(v);
  } catch {
    usage(`--${flag} must be a duration like 10s or 1m (got "${v}")`);
  }
}

function addr(flag: string, v: string): string {
  if (v.startsWith('unix:')) {
    if (v.length <= 5) usage(`--${flag} unix socket path is empty`);
    return v;
  }
  if (!splitHostPort(v)) usage(`--${flag} must be HOST:PORT${flag === 'grpc-addr' ? ' or unix:/path.sock' : ''} (got "${v}")`);
  return v;
}

export function defaultConfigDir(): string {
  return existsSync('config') ? 'config' : BUNDLED_EXAMPLES;
}

const common = {
  'config-dir': { type: 'string' },
  namespace: { type: 'string' },
  'max-token-bytes': { type: 'string' },
} as const;

export function parseServe(argv: string[]): Readonly<ServeOptions> {
  const { values } = parse(argv, {
    ...common,
    'config-source': { type: 'string' },
    'grpc-addr': { type: 'string' },
    'http-addr': { type: 'string' },
    'unmatched-host': { type: 'string' },
    'log-level': { type: 'string' },
    'reserved-header-prefix': { type: 'string' },
    'drain-timeout': { type: 'string' },
    'keys-ready-timeout': { type: 'string' },
    'watch-namespaces': { type: 'string' },
    kubeconfig: { type: 'string' },
    'leader-election-namespace': { type: 'string' },
    'lease-name': { type: 'string' },
    'lease-duration': { type: 'string' },
    'pod-name': { type: 'string' },
    'kube-relist-interval': { type: 'string' },
    'kube-watch-idle-timeout': { type: 'string' },
    workers: { type: 'string' },
    'token-cache-size': { type: 'string' },
    'decision-log': { type: 'string' },
    'decision-log-allow-sample': { type: 'string' },
    'decision-log-subject': { type: 'string' },
    'decision-log-jti': { type: 'string' },
  });
  const prefix = str(values, 'reserved-header-prefix', 'x-claimcheck-')!.toLowerCase();
  const namespace = str(values, 'namespace') ?? process.env.POD_NAMESPACE ?? 'default';
  if (!/^[a-z0-9-]+$/.test(prefix)) usage(`--reserved-header-prefix must be a lowercase header name prefix (got "${prefix}")`);
  return Object.freeze({
    configSource: oneOf('config-source', str(values, 'config-source', 'file')!, ['file', 'kubernetes'] as const),
    configDir: str(values, 'config-dir') ?? defaultConfigDir(),
    grpcAddr: addr('grpc-addr', str(values, 'grpc-addr', '0.0.0.0:9191')!),
    httpAddr: addr('http-addr', str(values, 'http-addr', '0.0.0.0:9090')!),
    unmatchedHost: oneOf('unmatched-host', str(values, 'unmatched-host', 'deny')!, ['deny', 'allow'] as const),
    logLevel: oneOf('log-level', str(values, 'log-level', 'info')!, ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const),
    namespace,
    reservedHeaderPrefix: prefix,
    maxTokenBytes: positiveInt('max-token-bytes', str(values, 'max-token-bytes', '16384')!),
    drainTimeoutMs: durationMs('drain-timeout', str(values, 'drain-timeout', '10s')!),
    keysReadyTimeoutMs: durationMs('keys-ready-timeout', str(values, 'keys-ready-timeout', '5s')!),
    kubernetes: kubernetesOptions(values, namespace),
    workers: workerCount(values),
    tokenCacheSize: nonNegativeInt('token-cache-size', str(values, 'token-cache-size', '100000')!),
    decisionLog: Object.freeze({
      enabled: bool('decision-log', str(values, 'decision-log', 'true')!),
      allowSample: fraction('decision-log-allow-sample', str(values, 'decision-log-allow-sample', '0')!),
      subject: bool('decision-log-subject', str(values, 'decision-log-subject', 'true')!),
      tokenId: bool('decision-log-jti', str(values, 'decision-log-jti', 'true')!),
    }),
  });
}

/** Default: one per CPU; one on a unix socket (a sidecar serves one pod, and workers cannot share a socket path). */
function workerCount(values: Record<string, unknown>): number {
  const unix = str(values, 'grpc-addr', '0.0.0.0:9191')!.startsWith('unix:');
  const v = str(values, 'workers');
  if (v === undefined) return unix ? 1 : availableParallelism();
  const n = positiveInt('workers', v);
  if (n > 1 && unix) usage(`--workers ${n} cannot serve a unix socket: use --workers 1 (sidecar) or a TCP --grpc-addr`);
  return n;
}

function kubernetesOptions(values: Record<string, unknown>, namespace: string): Readonly<KubernetesServeOptions> {
  const watchNamespaces = (str(values, 'watch-namespaces') ?? '').split(',').map((n) => n.trim()).filter(Boolean);
  for (const n of watchNamespaces) if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(n)) usage(`--watch-namespaces must be a comma-separated list of namespaces (got "${n}")`);
  const leaseDurationMs = durationMs('lease-duration', str(values, 'lease-duration', '15s')!);
  if (leaseDurationMs < 1000) usage('--lease-duration must be at least 1s');
  const relistIntervalMs = durationMs('kube-relist-interval', str(values, 'kube-relist-interval', '10m')!);
  const watchIdleTimeoutMs = durationMs('kube-watch-idle-timeout', str(values, 'kube-watch-idle-timeout', '5m')!);
  if (relistIntervalMs < 1000 || watchIdleTimeoutMs < 1000) usage('--kube-relist-interval and --kube-watch-idle-timeout must be at least 1s');
  const kubeconfig = str(values, 'kubeconfig');
  return Object.freeze({
    watchNamespaces,
    ...(kubeconfig ? { kubeconfig } : {}),
    leaderElectionNamespace: str(values, 'leader-election-namespace') ?? namespace,
    leaseName: str(values, 'lease-name', 'claimcheck-status')!,
    leaseDurationMs,
    // like client-go: hostname (the pod name in a cluster) plus a random suffix, unique per process
    podName: str(values, 'pod-name') ?? process.env.POD_NAME ?? `${hostname()}_${randomUUID().slice(0, 8)}`,
    relistIntervalMs,
    watchIdleTimeoutMs,
  });
}

export function parseCheck(argv: string[]): Readonly<CheckOptions> {
  const { values } = parse(argv, {
    ...common,
    host: { type: 'string' },
    path: { type: 'string' },
    method: { type: 'string' },
    token: { type: 'string' },
    header: { type: 'string', multiple: true },
    policy: { type: 'string' },
    json: { type: 'boolean' },
  });
  const host = str(values, 'host');
  const path = str(values, 'path');
  if (!host) usage('--host is required');
  if (!path) usage('--path is required');
  const headers: [string, string][] = [];
  for (const h of (values.header as string[] | undefined) ?? []) {
    const i = h.indexOf('=');
    if (i <= 0) usage(`--header must be NAME=VALUE (got "${h}")`);
    headers.push([h.slice(0, i).trim().toLowerCase(), h.slice(i + 1)]);
  }
  return Object.freeze({
    configDir: str(values, 'config-dir') ?? defaultConfigDir(),
    namespace: str(values, 'namespace') ?? process.env.POD_NAMESPACE ?? 'default',
    host,
    path,
    method: (str(values, 'method', 'GET') as string).toUpperCase(),
    token: str(values, 'token'),
    headers,
    policy: str(values, 'policy'),
    json: values.json === true,
    maxTokenBytes: positiveInt('max-token-bytes', str(values, 'max-token-bytes', '16384')!),
  });
}

export function parseValidate(argv: string[]): { paths: string[]; namespace: string } {
  const { values, positionals } = parse(argv, { namespace: { type: 'string' } }, true);
  if (positionals.length === 0) usage('validate needs at least one FILE or DIR');
  return { paths: positionals, namespace: str(values, 'namespace') ?? process.env.POD_NAMESPACE ?? 'default' };
}

export interface DemoTokenOptions {
  sub: string;
  scope: string;
  tenant?: string;
  ttlSec: number;
  jti?: string;
  aud: string;
}

export function parseDemoToken(argv: string[]): DemoTokenOptions {
  const { values } = parse(argv, {
    sub: { type: 'string' },
    scope: { type: 'string' },
    tenant: { type: 'string' },
    ttl: { type: 'string' },
    jti: { type: 'string' },
    aud: { type: 'string' },
  });
  return {
    sub: (values.sub as string | undefined) ?? 'demo-user',
    scope: (values.scope as string | undefined) ?? 'api:read',
    tenant: values.tenant as string | undefined,
    ttlSec: Math.round(durationMs('ttl', (values.ttl as string | undefined) ?? '15m') / 1000),
    jti: values.jti as string | undefined,
    aud: (values.aud as string | undefined) ?? 'demo-api',
  };
}
