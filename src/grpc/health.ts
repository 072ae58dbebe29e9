/** grpc.health.v1.Health (github.com/grpc/grpc/blob/master/doc/health-checking.md). */
import { GrpcCode } from '../grpc-code.js';
import type { GrpcMethod } from './transport/http2-grpc-server.js';
import { LEN, WireReader } from './wire/reader.js';
import { WireWriter } from './wire/writer.js';

export const AUTHORIZATION_SERVICE = 'envoy.service.auth.v3.Authorization';
const HEALTH_SERVICE = 'grpc.health.v1.Health';
export const HEALTH_CHECK_PATH = `/${HEALTH_SERVICE}/Check`;
const HEALTH_WATCH_PATH = `/${HEALTH_SERVICE}/Watch`;

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

/** grpc.health.v1 HealthCheckResponse.ServingStatus */
const STATUS_NUMBER: Record<ServingStatus, number> = { SERVING: 1, NOT_SERVING: 2, SERVICE_UNKNOWN: 3 };
const STATUS_NAME = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'] as const;
const HEALTH_SERVICE_FIELD = (1 << 3) | LEN;
const HEALTH_STATUS_FIELD = 1 << 3;

/** HealthCheckRequest { string service = 1; }: the service name, '' when absent. */
export function decodeHealthRequest(buf: Buffer): string {
  const r = new WireReader(buf);
  const end = buf.length;
  let service = '';
  while (r.pos < end) {
    const tag = r.tag(end);
    if (tag === HEALTH_SERVICE_FIELD) service = r.string(end);
    else r.skip(tag, end);
  }
  return service;
}

/** HealthCheckResponse { ServingStatus status = 1; } */
export function encodeHealthResponse(status: ServingStatus): Buffer {
  const w = new WireWriter(4);
  w.uint(1, STATUS_NUMBER[status]);
  return w.finish();
}

/** The client side (`claimcheck healthcheck`): HealthCheckRequest for `service`. */
export function encodeHealthRequest(service: string): Buffer {
  const w = new WireWriter(service.length * 3 + 8);
  if (service !== '') w.string(1, service);
  return w.finish();
}

/** The client side: the status name; UNKNOWN when absent (proto3 default) or not a known value. */
export function decodeHealthResponse(buf: Buffer): (typeof STATUS_NAME)[number] {
  const r = new WireReader(buf);
  const end = buf.length;
  let status = 0;
  while (r.pos < end) {
    const tag = r.tag(end);
    if (tag === HEALTH_STATUS_FIELD) status = r.varint(end);
    else r.skip(tag, end);
  }
  return STATUS_NAME[status] ?? 'UNKNOWN';
}

/** grpc.health.v1.Health/Check and /Watch for the transport. */
export function healthMethods(state: HealthState): [string, GrpcMethod][] {
  const check: GrpcMethod = {
    kind: 'unary',
    handle(request) {
      const status = state.statusOf(decodeHealthRequest(request));
      if (status === undefined) return { code: GrpcCode.NOT_FOUND, details: 'unknown service' };
      return { message: encodeHealthResponse(status) };
    },
  };

  const watch: GrpcMethod = {
    kind: 'server-stream',
    handle(request, call) {
      const service = decodeHealthRequest(request);
      // Per the health spec an unknown service gets SERVICE_UNKNOWN and the stream stays open.
      const statusNow = (): ServingStatus => state.statusOf(service) ?? 'SERVICE_UNKNOWN';
      let last: ServingStatus | undefined;
      const send = () => {
        const status = statusNow();
        if (status === last) return;
        last = status;
        call.write(encodeHealthResponse(status));
      };
      const unsubscribe = state.watch({
        onChange: send,
        onClose: () => {
          unsubscribe();
          call.end();
        },
      });
      call.onClose(unsubscribe);
      send();
    },
  };

  return [
    [HEALTH_CHECK_PATH, check],
    [HEALTH_WATCH_PATH, watch],
  ];
}
