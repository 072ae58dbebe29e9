/** grpc.health.v1.Health/Check client (the `claimcheck healthcheck` command and `helm test`). */
import * as grpc from '@grpc/grpc-js';
import { loadProtos } from './load-protos.js';

export type HealthCheckResult =
  | { ok: true; status: string }
  | { ok: false; status: string; detail: string };

/**
 * One Check call with a deadline. SERVING is the only healthy answer, as for a
 * Kubernetes `grpc:` probe; an RPC error (unreachable, NOT_FOUND for an unknown
 * service, deadline) is reported with its gRPC status name.
 */
export function checkHealth(addr: string, service: string, timeoutMs: number): Promise<HealthCheckResult> {
  const Client = grpc.makeGenericClientConstructor(loadProtos().health, 'Health');
  const client = new Client(addr, grpc.credentials.createInsecure());
  return new Promise<HealthCheckResult>((resolve) => {
    const deadline = new Date(Date.now() + timeoutMs);
    (client as any).Check({ service }, { deadline }, (err: grpc.ServiceError | null, res: { status?: string } | undefined) => {
      client.close();
      if (err) {
        resolve({ ok: false, status: grpc.status[err.code] ?? String(err.code), detail: err.details || err.message });
        return;
      }
      const status = res?.status ?? 'UNKNOWN';
      resolve(status === 'SERVING' ? { ok: true, status } : { ok: false, status, detail: `service "${service}" is ${status}` });
    });
  });
}
