/**
 * A real OTLP receiver for the tracing tests: Jaeger v2 (scripts/jaeger-tool.sh builds it) with
 * in-memory storage, OTLP over gRPC and HTTP in, and its query API out, all on free ports.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';

export const JAEGER_VERSION = 'v1.75.0';
const CACHE = process.env.CLAIMCHECK_CACHE ?? join(homedir(), '.cache', 'claimcheck');
export const JAEGER_BIN = join(CACHE, `jaeger-${JAEGER_VERSION}`, 'bin', 'jaeger');

export function jaegerSkipReason(): string | undefined {
  return existsSync(JAEGER_BIN) ? undefined : `Jaeger ${JAEGER_VERSION} is not built (scripts/jaeger-tool.sh; .ci/run runs it)`;
}

export interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references: { refType: string; traceID: string; spanID: string }[];
  tags: { key: string; value: unknown }[];
  processID: string;
}

export interface Jaeger {
  /** OTEL_EXPORTER_OTLP_ENDPOINT values */
  otlpHttp: string;
  otlpGrpc: string;
  /** every span of one trace, or [] */
  trace(traceIdHex: string): Promise<JaegerSpan[]>;
  /** the whole export of a trace as Jaeger stores it (for "no token anywhere" checks) */
  rawTrace(traceIdHex: string): Promise<string>;
  /** traces of a service, newest first */
  traces(service: string): Promise<{ traceID: string; spans: JaegerSpan[] }[]>;
  stop(): Promise<void>;
}

export async function startJaeger(): Promise<Jaeger> {
  const dir = await mkdtemp(join(tmpdir(), 'claimcheck-jaeger-'));
  const [grpc, http, query, queryGrpc] = [await freePort(), await freePort(), await freePort(), await freePort()];
  await writeFile(join(dir, 'config.yaml'), `service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
extensions:
  jaeger_query:
    storage:
      traces: memstore
    http:
      endpoint: 127.0.0.1:${query}
    grpc:
      endpoint: 127.0.0.1:${queryGrpc}
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 10000
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:${grpc}
      http:
        endpoint: 127.0.0.1:${http}
processors:
  batch:
    timeout: 100ms
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
`);
  const child: ChildProcess = spawn(JAEGER_BIN, ['--config', join(dir, 'config.yaml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const api = `http://127.0.0.1:${query}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`jaeger exited: ${stderr}`);
    const ok = await fetch(`${api}/api/services`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`jaeger did not start within 30 s: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const getJson = async (path: string) => {
    const r = await fetch(`${api}${path}`);
    return { status: r.status, text: await r.text() };
  };
  return {
    otlpHttp: `http://127.0.0.1:${http}`,
    otlpGrpc: `http://127.0.0.1:${grpc}`,
    trace: async (id) => {
      const r = await getJson(`/api/traces/${id}`);
      if (r.status !== 200) return [];
      return ((JSON.parse(r.text) as { data?: { spans: JaegerSpan[] }[] }).data?.[0]?.spans) ?? [];
    },
    rawTrace: async (id) => (await getJson(`/api/traces/${id}`)).text,
    traces: async (service) => {
      const r = await getJson(`/api/traces?service=${encodeURIComponent(service)}&limit=100&lookback=1h`);
      return r.status === 200 ? ((JSON.parse(r.text) as { data?: { traceID: string; spans: JaegerSpan[] }[] }).data ?? []) : [];
    },
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
