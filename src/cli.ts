/** argv → typed, frozen options. Validated once; a bad flag is one clear line and exit 2. */
import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseDuration } from './model/duration.js';
import { ClaimcheckError } from './errors.js';

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
  const m = /^(\[[^\]]+\]|[^:]*):(\d{1,5})$/.exec(v);
  if (!m || Number(m[2]) > 65535) usage(`--${flag} must be HOST:PORT${flag === 'grpc-addr' ? ' or unix:/path.sock' : ''} (got "${v}")`);
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
  });
  const prefix = str(values, 'reserved-header-prefix', 'x-claimcheck-')!.toLowerCase();
  if (!/^[a-z0-9-]+$/.test(prefix)) usage(`--reserved-header-prefix must be a lowercase header name prefix (got "${prefix}")`);
  return Object.freeze({
    configSource: oneOf('config-source', str(values, 'config-source', 'file')!, ['file', 'kubernetes'] as const),
    configDir: str(values, 'config-dir') ?? defaultConfigDir(),
    grpcAddr: addr('grpc-addr', str(values, 'grpc-addr', '0.0.0.0:9191')!),
    httpAddr: addr('http-addr', str(values, 'http-addr', '0.0.0.0:9090')!),
    unmatchedHost: oneOf('unmatched-host', str(values, 'unmatched-host', 'deny')!, ['deny', 'allow'] as const),
    logLevel: oneOf('log-level', str(values, 'log-level', 'info')!, ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const),
    namespace: str(values, 'namespace') ?? process.env.POD_NAMESPACE ?? 'default',
    reservedHeaderPrefix: prefix,
    maxTokenBytes: positiveInt('max-token-bytes', str(values, 'max-token-bytes', '16384')!),
    drainTimeoutMs: durationMs('drain-timeout', str(values, 'drain-timeout', '10s')!),
    keysReadyTimeoutMs: durationMs('keys-ready-timeout', str(values, 'keys-ready-timeout', '5s')!),
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
