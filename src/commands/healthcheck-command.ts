/**
 * `claimcheck healthcheck`: asks a running server's grpc.health.v1 service whether it
 * is SERVING. Exit 0 when it is, 1 otherwise. The container image has no shell or
 * grpc_health_probe, so `helm test` and sidecar setups use the image itself.
 */
import { parseArgs } from 'node:util';
import { ClaimcheckError } from '../errors.js';
import { parseDuration } from '../model/duration.js';

export interface HealthcheckOptions {
  addr: string;
  service: string;
  timeoutMs: number;
}

function bad(msg: string): never {
  throw new ClaimcheckError('bad_flag', msg);
}

export function parseHealthcheck(argv: string[]): HealthcheckOptions {
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: { addr: { type: 'string' }, service: { type: 'string' }, timeout: { type: 'string' } },
    }));
  } catch (e) {
    bad((e as Error).message.split('\n')[0]!);
  }
  const env = (flag: string) => process.env[`CLAIMCHECK_HEALTHCHECK_${flag.toUpperCase()}`];
  const addr = (values.addr as string | undefined) ?? env('addr') ?? '127.0.0.1:9191';
  if (!addr.startsWith('unix:') && !/^(\[[^\]]+\]|[^:/]+):\d{1,5}$/.test(addr)) bad(`--addr must be HOST:PORT or unix:/path.sock (got "${addr}")`);
  if (addr === 'unix:') bad('--addr unix socket path is empty');
  const timeout = (values.timeout as string | undefined) ?? env('timeout') ?? '3s';
  let timeoutMs: number;
  try {
    timeoutMs = parseDuration(timeout);
  } catch {
    bad(`--timeout must be a duration like 3s (got "${timeout}")`);
  }
  if (timeoutMs <= 0) bad(`--timeout must be positive (got "${timeout}")`);
  return { addr, service: (values.service as string | undefined) ?? env('service') ?? '', timeoutMs };
}

export async function runHealthcheckCommand(o: HealthcheckOptions, out: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  // grpc-js is loaded only here: `serve` does not need it (src/grpc/transport/)
  const { checkHealth } = await import('../grpc/health-client.js');
  const r = await checkHealth(o.addr, o.service, o.timeoutMs);
  out(r.ok ? `${o.addr}: ${r.status}\n` : `${o.addr}: ${r.status} (${r.detail})\n`);
  return r.ok ? 0 : 1;
}
