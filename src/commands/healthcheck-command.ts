/**
 * `claimcheck healthcheck`: asks a running server's grpc.health.v1 service whether it
 * is SERVING. Exit 0 when it is, 1 otherwise. The container image has no shell or
 * grpc_health_probe, so `helm test` and sidecar setups use the image itself.
 */
import type { HealthcheckOptions } from '../cli.js';

export async function runHealthcheckCommand(o: HealthcheckOptions, out: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  // grpc-js is loaded only here: `serve` does not need it (src/grpc/transport/)
  const { checkHealth } = await import('../grpc/health-client.js');
  const r = await checkHealth(o.addr, o.service, o.timeoutMs);
  out(r.ok ? `${o.addr}: ${r.status}\n` : `${o.addr}: ${r.status} (${r.detail})\n`);
  return r.ok ? 0 : 1;
}
