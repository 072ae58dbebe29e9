/** Starts each server under test as its own process and finds its gRPC address. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/helpers/free-port.js';
import { pinned } from './pin.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));

export interface ServerUnderTest {
  pid: number;
  /** host:port */
  address: string;
  httpPort?: number;
  /** host:port of the HTTP authorization listener (--authz-http-addr), when it serves one */
  authzHttp?: string;
  stop(): Promise<void>;
}

/** Spawns `cmd`, waits for a JSON log line with `msg === readyMsg` on stderr, keeps draining output after. */
async function launch(cmd: string, args: string[], readyMsg: string, env: Record<string, string> = {}, role: 'server' | 'client' = 'server'): Promise<ServerUnderTest & { line: Record<string, unknown> }> {
  const [c, a] = pinned(role, cmd, args);
  const child: ChildProcess = spawn(c, a, { cwd: REPO, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let tail = '';
  const line = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${cmd} did not start within 120 s:\n${tail}`)), 120_000);
    createInterface({ input: child.stderr! }).on('line', (l) => {
      tail = (tail + l + '\n').slice(-3000);
      try {
        const j = JSON.parse(l) as Record<string, unknown>;
        if (j.msg === readyMsg) {
          clearTimeout(timer);
          resolve(j);
        }
      } catch {
        // not JSON
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${cmd} exited before serving:\n${tail}`));
    });
  });
  return {
    pid: child.pid!,
    address: String(line.grpc ?? line.authzHttp),
    ...(typeof line.authzHttp === 'string' ? { authzHttp: line.authzHttp } : {}),
    line,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}

export async function startNoop(nodeArgs: string[] = []): Promise<ServerUnderTest> {
  return launch(process.execPath, [...nodeArgs, 'bench/noop-server.mjs', '127.0.0.1:0'], 'noop serving');
}

export async function startNoopH2(nodeArgs: string[] = []): Promise<ServerUnderTest> {
  return launch(process.execPath, [...nodeArgs, 'bench/noop-h2-server.mjs', '127.0.0.1:0'], 'noop serving');
}

export async function startNoopHttp1(nodeArgs: string[] = []): Promise<ServerUnderTest> {
  return launch(process.execPath, [...nodeArgs, 'bench/noop-http1-server.mjs', '127.0.0.1:0'], 'noop serving');
}

export async function startNoopAuthzHttp(nodeArgs: string[] = []): Promise<ServerUnderTest> {
  return launch(process.execPath, [...nodeArgs, 'bench/noop-authz-http-server.mjs', '127.0.0.1:0'], 'noop serving');
}

/** `env`: extra environment, e.g. the OTEL_* variables of the tracing rows */
export async function startClaimcheck(configDir: string, workers = 1, extra: string[] = [], nodeArgs: string[] = [], env: Record<string, string> = {}): Promise<ServerUnderTest> {
  const s = await launch(
    process.execPath,
    [...nodeArgs, 'bin/claimcheck.js', 'serve', '--config-dir', configDir, '--grpc-addr', '127.0.0.1:0', '--http-addr', '127.0.0.1:0', '--log-level', 'info', '--workers', String(workers), ...extra],
    'claimcheck serving',
    env,
  );
  const httpPort = Number(String(s.line.http).split(':').pop());
  // ready = configuration loaded and keys settled
  const deadline = Date.now() + 120_000;
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${httpPort}/readyz`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error('claimcheck never became ready');
    await new Promise((r) => setTimeout(r, 100));
  }
  return { ...s, httpPort };
}

export async function startPeer(bin: string, policy: string, data: string, gomaxprocs: number): Promise<ServerUnderTest> {
  return launch(bin, ['--addr', '127.0.0.1:0', '--policy', policy, '--data', data, '--query', 'data.envoy.authz.result'], 'peer serving', {
    GOMAXPROCS: String(gomaxprocs),
  });
}

/**
 * The opaque-token rows' introspection endpoint, on the client's CPU like Redis: in a
 * deployment the IdP runs elsewhere. `url` is its endpoint.
 */
export async function startIntrospectionEndpoint(issuer: string, audience: string): Promise<{ url: string; stop(): Promise<void> }> {
  const s = await launch(process.execPath, ['bench/introspection-endpoint.mjs', issuer, audience], 'introspection serving', {}, 'client');
  return { url: String(s.line.url), stop: s.stop };
}

/** The tracing rows' OTLP/HTTP endpoint (bench/otlp-sink.mjs), on the client's CPU. */
export async function startOtlpSink(): Promise<{ url: string; stop(): Promise<void> }> {
  const s = await launch(process.execPath, ['bench/otlp-sink.mjs'], 'otlp sink serving', {}, 'client');
  return { url: String(s.line.url), stop: s.stop };
}

const REDIS_BINS = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'];

/**
 * A redis-server for the `--replay-store redis://` rows, on the client's CPU: in a deployment
 * Redis runs elsewhere, so its work is not charged to the server under test.
 */
export async function startRedis(): Promise<{ url: string; stop(): Promise<void> }> {
  const bin = REDIS_BINS.find((p) => existsSync(p));
  if (!bin) throw new Error('redis-server is missing (apt-get install redis-server; .ci/run installs it)');
  const port = await freePort();
  const [c, a] = pinned('client', bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
  const child = spawn(c, a, { stdio: 'ignore' });
  const deadline = Date.now() + 10_000;
  while (!(await pings(port))) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error('redis-server did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

function pings(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => s.write('PING\r\n'));
    s.once('data', (d) => {
      s.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
    s.once('error', () => resolve(false));
  });
}
