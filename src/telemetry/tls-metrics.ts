/** The TLS listeners' metrics (tls/server-tls.ts reports through the TlsReport it implements). */
import { Counter, Gauge, type Registry } from 'prom-client';

type Listener = 'grpc' | 'http' | 'authz-http';

export class TlsMetrics {
  private readonly reloads: Counter<'listener' | 'result'>;
  private readonly notAfter: Gauge<'listener'>;

  constructor(registry: Registry) {
    this.reloads = new Counter({
      name: 'claimcheck_tls_reloads_total',
      help: 'Certificate and key loads of a TLS listener by result: ok (the first load and every change served), error (the files could not be used; the last good pair keeps serving)',
      labelNames: ['listener', 'result'] as const,
      registers: [registry],
    });
    this.notAfter = new Gauge({
      name: 'claimcheck_tls_certificate_expiry_timestamp_seconds',
      help: "Unix time the served certificate's notAfter falls on, per TLS listener",
      labelNames: ['listener'] as const,
      registers: [registry],
      // each cluster worker serves the same files: the soonest expiry is the one to alert on
      aggregator: 'min',
    });
  }

  reloaded(listener: Listener, notAfterMs: number): void {
    this.reloads.inc({ listener, result: 'ok' });
    this.notAfter.set({ listener }, Math.floor(notAfterMs / 1000));
  }

  failed(listener: Listener): void {
    this.reloads.inc({ listener, result: 'error' });
  }
}
