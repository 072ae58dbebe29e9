/** Starts the real `claimcheck serve` process (the built bin) and reads its JSON logs. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import https from 'node:https';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = `${REPO}bin/claimcheck.js`;

/** Both gRPC servers claimcheck can serve on; the suites that start claimcheck pick one with CLAIMCHECK_TEST_GRPC_SERVER. */
export const GRPC_SERVERS = ['claimcheck', 'grpc-js'] as const;
export type GrpcServerKind = (typeof GRPC_SERVERS)[number];

/** --grpc-server for every process these suites start (.ci/run runs the integration suites once per server). */
export function testGrpcServer(): GrpcServerKind {
  const v = process.env.CLAIMCHECK_TEST_GRPC_SERVER ?? 'claimcheck';
  if (!(GRPC_SERVERS as readonly string[]).includes(v)) throw new Error(`CLAIMCHECK_TEST_GRPC_SERVER must be one of ${GRPC_SERVERS.join(', ')} (got "${v}")`);
  return v as GrpcServerKind;
}

export interface LogLine {
  level: string;
  msg: string;
  [k: string]: unknown;
}

export interface ClaimcheckProcess {
  child: ChildProcess;
  grpcAddress: string;
  httpPort: number;
  /** the HTTP authorization listener's port (--authz-http-addr HOST:PORT); 0 when it is off */
  authzHttpPort: number;
  logs: LogLine[];
  /** raw stderr text, for asserting that secrets never appear */
  rawLog(): string;
  waitForLog(pred: (l: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  http(path: string): Promise<{ status: number; body: string }>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Without `configDir`, serve picks its default directory (./config of `cwd`, else the bundled examples). */
/** `httpsCa`: the HTTP listener serves TLS (--http-tls-*) under this CA, and http() asks over HTTPS. */
export async function startClaimcheck(opts: { configDir?: string; args?: string[]; env?: Record<string, string>; grpcAddr?: string; cwd?: string; httpsCa?: string }): Promise<ClaimcheckProcess> {
  const args = [
    BIN,
    'serve',
    ...(opts.configDir !== undefined ? ['--config-dir', opts.configDir] : []),
    '--grpc-addr', opts.grpcAddr ?? '127.0.0.1:0',
    '--http-addr', '127.0.0.1:0',
    '--drain-timeout', '2s',
    '--grpc-server', testGrpcServer(),
    ...(opts.args ?? []),
  ];
  const child = spawn(process.execPath, args, { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'], ...(opts.cwd ? { cwd: opts.cwd } : {}) });
  const logs: LogLine[] = [];
  let raw = '';
  const waiters = new Set<{ pred: (l: LogLine) => boolean; resolve: (l: LogLine) => void }>();
  createInterface({ input: child.stderr! }).on('line', (line) => {
    raw += line + '\n';
    let parsed: LogLine | undefined;
    try {
      parsed = JSON.parse(line) as LogLine;
    } catch {
      parsed = { level: 'raw', msg: line };
    }
    logs.push(parsed);
    for (const w of waiters) if (w.pred(parsed)) { waiters.delete(w); w.resolve(parsed); }
  });
  child.stdout!.on('data', (d) => { raw += String(d); });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

  const waitForLog = (pred: (l: LogLine) => boolean, timeoutMs = 15_000) => {
    const found = logs.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise<LogLine>((resolve, reject) => {
      const w = { pred, resolve: (l: LogLine) => { clearTimeout(t); resolve(l); } };
      const t = setTimeout(() => { waiters.delete(w); reject(new Error(`timed out waiting for log line; got:\n${raw.slice(-3000)}`)); }, timeoutMs);
      waiters.add(w);
      void exited.then((code) => { if (waiters.has(w)) { waiters.delete(w); clearTimeout(t); reject(new Error(`claimcheck exited with ${code} before the log line; output:\n${raw.slice(-3000)}`)); } });
    });
  };

  const serving = await waitForLog((l) => l.msg === 'claimcheck serving', 30_000);
  const grpcAddress = String(serving.grpc);
  const httpPort = Number(String(serving.http).split(':').pop());
  const authzHttpPort = typeof serving.authzHttp === 'string' ? Number(serving.authzHttp.split(':').pop()) || 0 : 0;
  return {
    child,
    grpcAddress,
    httpPort,
    authzHttpPort,
    logs,
    rawLog: () => raw,
    waitForLog,
    http: async (path) => {
      if (opts.httpsCa) return httpsGet(httpPort, path, opts.httpsCa);
      const res = await fetch(`http://127.0.0.1:${httpPort}${path}`);
      return { status: res.status, body: await res.text() };
    },
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Poll `fn` until it returns a truthy value or the deadline passes. */
export async function eventually<T>(fn: () => Promise<T> | T, timeoutMs = 5_000, intervalMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms (last: ${last instanceof Error ? last.message : String(last)})`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** GET https://127.0.0.1:PORT/PATH trusting `ca`; `opts` adds a client certificate or headers. */
export function httpsGet(port: number, path: string, ca: string, opts: https.RequestOptions = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https.get({ host: '127.0.0.1', port, path, ca, ...opts }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).once('error', reject);
  });
}
