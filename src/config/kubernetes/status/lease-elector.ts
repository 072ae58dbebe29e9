/**
 * Leader election over a coordination.k8s.io/v1 Lease, the algorithm of client-go's
 * leaderelection package: a holder renews every `retryMs`; a candidate takes the Lease
 * only after it has seen the same record unchanged for `leaseDurationMs` (local time of
 * observation, so clock skew between replicas does not matter); updates carry the
 * resourceVersion, so two candidates cannot both win. A leader that cannot renew within
 * `renewDeadlineMs` stops leading before anyone else may take over. On stop the Lease is
 * released, so a rolling update hands over at once.
 */
import type { Logger } from '../../../telemetry/logger.js';
import { KubeApiError, type KubeClient } from '../kube-client.js';

export interface LeaseElectorOptions {
  client: KubeClient;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  logger: Logger;
  onStartedLeading(): void;
  onStoppedLeading(): void;
  /** default leaseDuration × 2/3 */
  renewDeadlineMs?: number;
  /** default leaseDuration / 7.5 (2 s for 15 s, as client-go) */
  retryMs?: number;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

interface Lease {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: LeaseSpec;
}

/** MicroTime: RFC 3339 with exactly six fractional digits. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class LeaseElector {
  private leading = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private observed: { record: string; atMs: number } | undefined;
  private lastRenewMs = 0;
  private readonly path: string;
  private readonly renewDeadlineMs: number;
  private readonly retryMs: number;

  constructor(private readonly opts: LeaseElectorOptions) {
    this.path = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(opts.namespace)}/leases`;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? Math.round((opts.leaseDurationMs * 2) / 3);
    this.retryMs = opts.retryMs ?? Math.max(100, Math.round(opts.leaseDurationMs / 7.5));
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    void this.loop();
  }

  /** Stops leading and releases the Lease if held. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (!this.leading) return;
    this.setLeading(false);
    try {
      const lease = await this.opts.client.request<Lease>('GET', `${this.path}/${this.opts.name}`, { timeoutMs: 2_000 });
      if (lease.spec.holderIdentity !== this.opts.identity) return;
      const now = microTime(Date.now());
      // client-go's ReleaseOnCancel: an empty holder with a 1 s duration lets the next replica in at once
      await this.opts.client.request('PUT', `${this.path}/${this.opts.name}`, {
        body: { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: now, acquireTime: now } },
        timeoutMs: 2_000,
      });
      this.opts.logger.info({ lease: `${this.opts.namespace}/${this.opts.name}` }, 'leader lease released');
    } catch (err) {
      this.opts.logger.warn({ err: (err as Error).message }, 'could not release the leader lease; it expires by itself');
    }
  }

  private async loop(): Promise<void> {
    if (this.stopped) return;
    let acquired = false;
    try {
      acquired = await this.tryAcquireOrRenew();
    } catch (err) {
      this.opts.logger.debug({ err: (err as Error).message }, 'leader election attempt failed');
    }
    if (this.stopped) return;
    const now = Date.now();
    if (acquired) {
      this.lastRenewMs = now;
      if (!this.leading) this.setLeading(true);
    } else if (this.leading && now - this.lastRenewMs > this.renewDeadlineMs) {
      this.opts.logger.warn({ renewDeadlineMs: this.renewDeadlineMs }, 'could not renew the leader lease in time; stepping down');
      this.setLeading(false);
    }
    const jitter = this.leading ? 0 : Math.random() * this.retryMs * 0.2;
    this.timer = setTimeout(() => void this.loop(), this.retryMs + jitter);
    this.timer.unref();
  }

  private setLeading(leading: boolean): void {
    if (this.leading === leading) return;
    this.leading = leading;
    this.opts.logger.info({ lease: `${this.opts.namespace}/${this.opts.name}`, identity: this.opts.identity }, leading ? 'became leader: writing status' : 'stopped leading');
    if (leading) this.opts.onStartedLeading();
    else this.opts.onStoppedLeading();
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const nowMs = Date.now();
    const now = microTime(nowMs);
    const durationSec = Math.max(1, Math.round(this.opts.leaseDurationMs / 1000));
    let lease: Lease;
    try {
      lease = await this.opts.client.request<Lease>('GET', `${this.path}/${this.opts.name}`, { timeoutMs: this.retryMs * 2 });
    } catch (err) {
      if (!(err instanceof KubeApiError && err.status === 404)) throw err;
      const created: Lease = {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: this.opts.name, namespace: this.opts.namespace },
        spec: { holderIdentity: this.opts.identity, leaseDurationSeconds: durationSec, acquireTime: now, renewTime: now, leaseTransitions: 0 },
      };
      await this.opts.client.request('POST', this.path, { body: created, timeoutMs: this.retryMs * 2 });
      return true;
    }
    const spec = lease.spec ?? {};
    const record = JSON.stringify([spec.holderIdentity, spec.renewTime, spec.leaseDurationSeconds]);
    if (this.observed?.record !== record) this.observed = { record, atMs: nowMs };
    const holder = spec.holderIdentity ?? '';
    const mine = holder === this.opts.identity;
    const heldFor = (spec.leaseDurationSeconds ?? durationSec) * 1000;
    if (!mine && holder !== '' && this.observed.atMs + heldFor > nowMs) return false;
    const next: Lease = {
      ...lease,
      spec: {
        ...spec,
        holderIdentity: this.opts.identity,
        leaseDurationSeconds: durationSec,
        renewTime: now,
        ...(mine ? {} : { acquireTime: now, leaseTransitions: (spec.leaseTransitions ?? 0) + 1 }),
      },
    };
    try {
      await this.opts.client.request('PUT', `${this.path}/${this.opts.name}`, { body: next, timeoutMs: this.retryMs * 2 });
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 409) return false; // someone else updated it first
      throw err;
    }
    return true;
  }
}
