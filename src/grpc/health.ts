/** grpc.health.v1.Health (github.com/grpc/grpc/blob/master/doc/health-checking.md). */
import * as grpc from '@grpc/grpc-js';

export const AUTHORIZATION_SERVICE = 'envoy.service.auth.v3.Authorization';

export type ServingStatus = 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

interface Watcher {
  onChange(serving: boolean): void;
  onClose(): void;
}

/**
 * One serving flag for the whole server ('') and the Authorization service: both
 * are served by the same process and become ready together. Starts NOT_SERVING
 * (Kubernetes grpc probes pass only on SERVING) until the config is loaded.
 */
export class HealthState {
  private serving: boolean;
  private readonly watchers = new Set<Watcher>();
  readonly services: ReadonlySet<string> = new Set(['', AUTHORIZATION_SERVICE]);

  constructor(initiallyServing = false) {
    this.serving = initiallyServing;
  }

  setServing(serving: boolean): void {
    if (serving === this.serving) return;
    this.serving = serving;
    for (const w of [...this.watchers]) w.onChange(serving);
  }

  isServing(): boolean {
    return this.serving;
  }

  /** undefined for a service this server does not know. */
  statusOf(service: string): ServingStatus | undefined {
    if (!this.services.has(service)) return undefined;
    return this.serving ? 'SERVING' : 'NOT_SERVING';
  }

  /** Returns the unsubscribe function. */
  watch(watcher: Watcher): () => void {
    this.watchers.add(watcher);
    return () => this.watchers.delete(watcher);
  }

  /** Ends every Watch stream (shutdown: an open stream would hold the drain until its deadline). */
  closeWatches(): void {
    for (const w of [...this.watchers]) w.onClose();
    this.watchers.clear();
  }
}

type HealthRequest = { service?: unknown };
type HealthResponse = { status: ServingStatus };

export function healthHandlers(state: HealthState): grpc.UntypedServiceImplementation {
  const check: grpc.handleUnaryCall<HealthRequest, HealthResponse> = (call, callback) => {
    const service = typeof call.request?.service === 'string' ? call.request.service : '';
    const status = state.statusOf(service);
    if (status === undefined) {
      callback({ code: grpc.status.NOT_FOUND, details: 'unknown service' }, null);
      return;
    }
    callback(null, { status });
  };

  const watch: grpc.handleServerStreamingCall<HealthRequest, HealthResponse> = (call) => {
    const service = typeof call.request?.service === 'string' ? call.request.service : '';
    // Per the health spec an unknown service gets SERVICE_UNKNOWN and the stream stays open.
    const statusNow = (): ServingStatus => state.statusOf(service) ?? 'SERVICE_UNKNOWN';
    let last: ServingStatus | undefined;
    const send = () => {
      const status = statusNow();
      if (status === last) return;
      last = status;
      call.write({ status });
    };
    const unsubscribe = state.watch({
      onChange: send,
      onClose: () => {
        unsubscribe();
        call.end();
      },
    });
    call.on('cancelled', unsubscribe);
    call.on('error', unsubscribe);
    send();
  };

  return { Check: check, Watch: watch };
}
