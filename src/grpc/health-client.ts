/** grpc.health.v1.Health/Check client (the `claimcheck healthcheck` command and `helm test`). */
import * as grpc from '@grpc/grpc-js';
import { decodeHealthResponse, encodeHealthRequest, HEALTH_CHECK_PATH } from './health.js';

export type HealthCheckResult =
  | { ok: true; status: string }
  | { ok: false; status: string; detail: string };

/**
 * One Check call with a deadline. SERVING is the only healthy answer, as for a
 * Kubernetes `grpc:` probe; an RPC error (unreachable, NOT_FOUND for an unknown
 * service, deadline) is reported with its gRPC status name.
 */
export function checkHealth(addr: string, service: string, timeoutMs: number, tls?: { ca: Buffer; cert?: Buffer; key?: Buffer }): Promise<HealthCheckResult> {
  const credentials = tls ? grpc.credentials.createSsl(tls.ca, tls.key ?? null, tls.cert ?? null) : grpc.credentials.createInsecure();
  const client = new grpc.Client(addr, credentials);
  return new Promise<HealthCheckResult>((resolve) => {
    const deadline = new Date(Date.now() + timeoutMs);
    client.makeUnaryRequest(HEALTH_CHECK_PATH, encodeHealthRequest, decodeHealthResponse, service, { deadline }, (err, status) => {
      client.close();
      if (err) {
        resolve({ ok: false, status: grpc.status[err.code] ?? String(err.code), detail: err.details || err.message });
        return;
      }
      const name = status ?? 'UNKNOWN';
      resolve(name === 'SERVING' ? { ok: true, status: name } : { ok: false, status: name, detail: `service "${service}" is ${name}` });
    });
  });
}
