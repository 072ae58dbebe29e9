/**
 * `claimcheck healthcheck`: asks a running server's grpc.health.v1 service whether it
 * is SERVING. Exit 0 when it is, 1 otherwise. The container image has no shell or
 * grpc_health_probe, so `helm test` and sidecar setups use the image itself.
 */
import { readFileSync } from 'node:fs';
import type { HealthcheckOptions } from '../cli.js';

export async function runHealthcheckCommand(o: HealthcheckOptions, out: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  // grpc-js is loaded only here: `serve` does not need it (src/grpc/transport/)
  const { checkHealth } = await import('../grpc/health-client.js');
  let tls: { ca: Buffer; cert?: Buffer; key?: Buffer } | undefined;
  try {
    tls = o.tls && { ca: readFileSync(o.tls.ca), ...(o.tls.cert ? { cert: readFileSync(o.tls.cert), key: readFileSync(o.tls.key!) } : {}) };
  } catch (err) {
    out(`${o.addr}: cannot read a TLS file (${(err as NodeJS.ErrnoException).code ?? 'error'})\n`);
    return 1;
  }
  const r = await checkHealth(o.addr, o.service, o.timeoutMs, tls);
  out(r.ok ? `${o.addr}: ${r.status}\n` : `${o.addr}: ${r.status} (${r.detail})\n`);
  return r.ok ? 0 : 1;
}
