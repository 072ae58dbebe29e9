/**
 * Writes the /status of every watched resource, on the elected replica only (Authorino
 * likewise keeps its status updater apart from serving). A pass computes the desired
 * status of each object and PATCHes only those whose status differs (lastTransitionTime
 * aside), so a quiet cluster sees no writes. Passes run after every build of the
 * Kubernetes source and once a second (key sets change state on their own).
 */
import { API_VERSION } from '../../../model/types.js';
import type { Logger } from '../../../telemetry/logger.js';
import { KubeApiError, type KubeClient } from '../kube-client.js';
import type { KubernetesSource, KubernetesView, WatchedObject } from '../kubernetes-source.js';
import { keyOf } from '../../accept-resources.js';
import type { AnyResource } from '../../../model/types.js';
import { desiredStatus, sameStatus, withTransitionTimes, type Condition, type DesiredStatus, type IssuerKeyStatus } from './conditions.js';

export interface StatusWriterOptions {
  client: KubeClient;
  source: KubernetesSource;
  /** claimcheck's namespace */
  namespace: string;
  /** this replica, for the field manager and Events */
  identity: string;
  keyStatus(): IssuerKeyStatus[];
  logger: Logger;
  metrics?: { statusWrite(kind: string, result: 'success' | 'error'): void };
  /** Kubernetes Events when a resource becomes not Accepted, unresolved or without keys */
  events?: boolean;
  intervalMs?: number;
}

const FAILING: Record<string, true> = { Accepted: true, ResolvedRefs: true, KeysReady: true };
/** How long a written status is trusted while the watch has not shown it back yet. */
const ECHO_WAIT_MS = 10_000;

export class StatusWriter {
  private active = false;
  private running: Promise<void> | undefined;
  private again = false;
  private readonly timer: NodeJS.Timeout;
  private readonly unsubscribe: () => void;
  private readonly written = new Map<string, { json: string; atMs: number }>();

  constructor(private readonly opts: StatusWriterOptions) {
    this.unsubscribe = opts.source.onBuilt(() => this.kick());
    this.timer = setInterval(() => this.kick(), opts.intervalMs ?? 1_000);
    this.timer.unref();
  }

  /** Only the Lease holder is active. */
  setActive(active: boolean): void {
    this.active = active;
    this.written.clear();
    if (active) this.kick();
  }

  stop(): void {
    this.active = false;
    clearInterval(this.timer);
    this.unsubscribe();
  }

  private kick(): void {
    if (!this.active) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        const view = this.opts.source.current();
        if (view) await this.pass(view);
      } while (this.again && this.active);
    })().finally(() => { this.running = undefined; });
  }

  private async pass(view: KubernetesView): Promise<void> {
    const served = new Map<string, AnyResource>(view.acceptance.served.map((r) => [keyOf(r, this.opts.namespace), r]));
    const ctx = {
      namespace: this.opts.namespace,
      acceptance: view.acceptance,
      existing: new Set(view.objects.map((o) => o.key)),
      served,
      keys: new Map(this.opts.keyStatus().map((k) => [k.issuer, k])),
      lookupSecret: (ns: string, name: string, key: string | undefined) => view.secrets.lookup(ns, name, key),
      nowMs: Date.now(),
    };
    const live = new Set<string>();
    for (const o of view.objects) {
      if (!this.active) return;
      live.add(o.key);
      const desired = desiredStatus(o, ctx);
      const current = o.obj.status as Record<string, any> | undefined;
      if (sameStatus(current, desired)) {
        this.written.delete(o.key);
        continue;
      }
      const json = JSON.stringify(desired);
      const prev = this.written.get(o.key);
      if (prev && prev.json === json && Date.now() - prev.atMs < ECHO_WAIT_MS) continue; // written; the watch has not caught up yet
      await this.write(o, desired, current);
      this.written.set(o.key, { json, atMs: Date.now() });
    }
    for (const key of this.written.keys()) if (!live.has(key)) this.written.delete(key);
  }

  private async write(o: WatchedObject, desired: DesiredStatus, current: Record<string, any> | undefined): Promise<void> {
    const m = o.obj.metadata;
    const nowIso = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const conditions = withTransitionTimes(desired.conditions, current?.conditions as Condition[] | undefined, nowIso);
    const status: Record<string, unknown> = { observedGeneration: desired.observedGeneration, conditions };
    if (o.info.kind === 'TrustedIssuer') {
      status.keyIds = desired.keyIds ?? null;
      status.lastRefreshTime = desired.lastRefreshTime ?? null;
    }
    const path = `/apis/${API_VERSION}/namespaces/${encodeURIComponent(m.namespace ?? '')}/${o.info.plural}/${encodeURIComponent(m.name)}/status`;
    try {
      await this.opts.client.request('PATCH', `${path}?fieldManager=${encodeURIComponent(`claimcheck-${this.opts.identity}`.slice(0, 128))}`, {
        body: { status },
        contentType: 'application/merge-patch+json',
        timeoutMs: 10_000,
      });
      this.opts.metrics?.statusWrite(o.info.kind, 'success');
      const summary = Object.fromEntries(conditions.map((c) => [c.type, `${c.status}/${c.reason}`]));
      this.opts.logger.info({ kind: o.info.kind, namespace: m.namespace, name: m.name, generation: desired.observedGeneration, conditions: summary }, 'status updated');
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return; // deleted meanwhile
      this.opts.metrics?.statusWrite(o.info.kind, 'error');
      this.opts.logger.warn({ kind: o.info.kind, namespace: m.namespace, name: m.name, err: (err as Error).message }, 'status update failed; retrying on the next pass');
      return;
    }
    if (this.opts.events !== false) await this.emitEvents(o, conditions, current?.conditions as Condition[] | undefined, nowIso);
  }

  /**
   * One Warning Event when a condition turns False (or changes its reason while False), and a
   * Normal one when KeysReady turns True after it was not: the keys are back.
   */
  private async emitEvents(o: WatchedObject, conditions: Condition[], before: Condition[] | undefined, nowIso: string): Promise<void> {
    const m = o.obj.metadata;
    for (const c of conditions) {
      const prev = before?.find((b) => b.type === c.type);
      const failing = FAILING[c.type] && c.status === 'False' && !(prev && prev.status === 'False' && prev.reason === c.reason);
      const recovered = c.type === 'KeysReady' && c.status === 'True' && prev !== undefined && prev.status !== 'True';
      if (!failing && !recovered) continue;
      try {
        await this.opts.client.request('POST', `/api/v1/namespaces/${encodeURIComponent(m.namespace ?? '')}/events`, {
          body: {
            apiVersion: 'v1',
            kind: 'Event',
            metadata: { generateName: `${m.name}.`, namespace: m.namespace },
            involvedObject: { apiVersion: API_VERSION, kind: o.info.kind, name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion },
            type: failing ? 'Warning' : 'Normal',
            reason: c.reason,
            message: c.message,
            source: { component: 'claimcheck' },
            reportingComponent: 'claimcheck.io/claimcheck',
            reportingInstance: this.opts.identity.slice(0, 128),
            firstTimestamp: nowIso,
            lastTimestamp: nowIso,
            count: 1,
          },
          timeoutMs: 5_000,
        });
      } catch (err) {
        this.opts.logger.debug({ err: (err as Error).message }, 'could not record a Kubernetes Event');
      }
    }
  }
}
