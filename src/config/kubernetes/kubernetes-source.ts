/**
 * The `kubernetes` config source: TrustedIssuers, AuthPolicies and TokenRevocations from
 * the API server (all namespaces, or the listed ones), plus the Secrets they reference.
 * Watch callbacks only mark the source dirty; one worker builds the resource set, decides
 * per-resource acceptance and delivers it (pepr's "informer callbacks only enqueue").
 */
import type { CompileSettings } from '../../compile/compile-snapshot.js';
import type { ConfigProblem } from '../../errors.js';
import type { ConfigDelivery } from '../config-delivery.js';
import { RejectionLog } from '../rejection-log.js';
import { API_VERSION, type AnyResource, type TrustedIssuer } from '../../model/types.js';
import type { Logger } from '../../telemetry/logger.js';
import { acceptResources, keyOf, type Acceptance } from '../accept-resources.js';
import type { KubeClient, KubeObject } from './kube-client.js';
import { ListWatch, type ListWatchMetrics } from './list-watch.js';
import { SecretWatches } from './secret-watches.js';
import { resourceKey, toResource, WATCHED_KINDS, type KindInfo } from './to-resource.js';

export interface KubernetesSourceOptions {
  client: KubeClient;
  /** claimcheck's namespace: mesh-wide issuers live here */
  namespace: string;
  /** empty: all namespaces */
  watchNamespaces: readonly string[];
  relistIntervalMs: number;
  idleTimeoutMs: number;
  logger: Logger;
  metrics?: ListWatchMetrics & { observe(state: KubernetesView): void };
  /** coalesces bursts of events (a `kubectl apply` of many objects) into one build */
  batchMs?: number;
  /** --identity-issuer; null: policies with identity.token are refused */
  /** the server's compile settings (identity issuer, CEL cost limit) */
  settings?: CompileSettings;
}

export interface WatchedObject {
  info: KindInfo;
  key: string;
  obj: KubeObject;
}

/** What the last build saw and decided; the status writer reads it. */
export interface KubernetesView {
  objects: WatchedObject[];
  acceptance: Acceptance;
  secrets: SecretWatches;
  builtAtMs: number;
}

const SECRET_SYNC_WAIT_MS = 5_000;

export class KubernetesSource {
  readonly secrets: SecretWatches;
  private readonly watches: { info: KindInfo; lw: ListWatch }[] = [];
  private readonly lastGood = new Map<string, AnyResource>();
  private readonly listeners = new Set<(view: KubernetesView) => void>();
  private deliver: ((delivery: ConfigDelivery) => void) | undefined;
  private view: KubernetesView | undefined;
  private dirty = false;
  private building: Promise<void> | undefined;
  private batchTimer: NodeJS.Timeout | undefined;
  private lastInputs = '';
  private readonly rejections: RejectionLog;
  private stopped = false;

  /** the watched namespaces; empty = all. claimcheck's own is always in: its issuers are mesh-wide. */
  private readonly namespaces: string[];

  constructor(private readonly opts: KubernetesSourceOptions) {
    this.rejections = new RejectionLog(opts.logger);
    this.namespaces = opts.watchNamespaces.length > 0 ? [...new Set([opts.namespace, ...opts.watchNamespaces])] : [];
    const onChange = () => this.enqueue();
    this.secrets = new SecretWatches({
      client: opts.client,
      relistIntervalMs: opts.relistIntervalMs,
      idleTimeoutMs: opts.idleTimeoutMs,
      onChange,
      logger: opts.logger,
      ...(opts.metrics ? { metrics: opts.metrics } : {}),
    });
    const scopes = this.namespaces.length > 0 ? this.namespaces.map((ns) => `/namespaces/${encodeURIComponent(ns)}`) : [''];
    for (const info of WATCHED_KINDS) {
      for (const scope of scopes) {
        const lw = new ListWatch({
          client: opts.client,
          path: `/apis/${API_VERSION}${scope}/${info.plural}`,
          resource: info.plural,
          relistIntervalMs: opts.relistIntervalMs,
          idleTimeoutMs: opts.idleTimeoutMs,
          onChange,
          logger: opts.logger,
          ...(opts.metrics ? { metrics: opts.metrics } : {}),
        });
        this.watches.push({ info, lw });
      }
    }
  }

  get description(): string {
    const where = this.namespaces.length > 0 ? this.namespaces.join(',') : 'all namespaces';
    return `kubernetes:${this.opts.client.server} (${where})`;
  }

  /** Resolves after the first complete list of every collection has been delivered: that is what readiness waits for. */
  async start(onChange: (delivery: ConfigDelivery) => void): Promise<void> {
    this.deliver = onChange;
    for (const { lw } of this.watches) lw.start();
    await Promise.all(this.watches.map(({ lw }) => lw.whenSynced));
    if (this.stopped) return;
    this.opts.logger.info({ collections: this.watches.length, server: this.opts.client.server }, 'kubernetes resources listed');
    this.dirty = true;
    await this.drain();
  }

  stop(): void {
    this.stopped = true;
    for (const { lw } of this.watches) lw.stop();
    this.secrets.stop();
    clearTimeout(this.batchTimer);
  }

  current(): KubernetesView | undefined {
    return this.view;
  }

  onBuilt(listener: (view: KubernetesView) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private enqueue(): void {
    this.dirty = true;
    if (!this.deliver || this.batchTimer || this.stopped) return;
    if (!this.watches.every(({ lw }) => lw.synced)) return; // start() builds once everything is listed
    this.batchTimer = setTimeout(() => {
      this.batchTimer = undefined;
      void this.drain();
    }, this.opts.batchMs ?? 20);
  }

  /** One build at a time; changes that arrive during a build cause one more. */
  private async drain(): Promise<void> {
    if (this.building) return this.building;
    this.building = (async () => {
      while (this.dirty && !this.stopped) {
        this.dirty = false;
        try {
          await this.build();
        } catch (err) {
          this.opts.logger.error({ err: (err as Error).message }, 'kubernetes config build failed; the last good configuration keeps serving');
        }
      }
    })();
    try {
      await this.building;
    } finally {
      this.building = undefined;
    }
  }

  private async build(): Promise<void> {
    const objects: WatchedObject[] = [];
    for (const { info, lw } of this.watches) {
      for (const obj of lw.store.values()) objects.push({ info, key: resourceKey(info.kind, obj.metadata.namespace, obj.metadata.name), obj });
    }
    const resources: AnyResource[] = [];
    const invalid = new Map<string, ConfigProblem[]>();
    for (const { info, key, obj } of objects) {
      const c = toResource(info.kind, obj);
      if (c.ok) resources.push(c.resource);
      else invalid.set(key, c.problems.map((p) => ({ ...p, kind: info.kind, name: obj.metadata.name, namespace: obj.metadata.namespace ?? this.opts.namespace })));
    }

    // the Secrets of signature keys, decryption keys and the introspection client secret
    const refs = resources
      .filter((r): r is TrustedIssuer => r.kind === 'TrustedIssuer')
      .flatMap((r) => [r.spec.jwks?.secretRef?.name, r.spec.decryption?.secretRef.name, r.spec.introspection?.clientSecretRef?.name, r.spec.introspection?.clientKeyRef?.name].flatMap((name) => (name ? [{ namespace: r.metadata.namespace ?? this.opts.namespace, name }] : [])));
    this.secrets.reconcile(refs);
    if (!this.view) await this.secrets.waitSynced(SECRET_SYNC_WAIT_MS);
    if (this.stopped) return;

    // A status write changes only resourceVersion and status: nothing to compile, but the
    // status writer must see the new objects.
    const inputs = JSON.stringify([resources.map((r) => ({ ...r, metadata: { ...r.metadata, resourceVersion: undefined } })), [...invalid]]);
    let acceptance = this.view?.acceptance;
    const changed = !acceptance || inputs !== this.lastInputs;
    if (changed) {
      acceptance = acceptResources({
        resources,
        invalid,
        lastGood: this.lastGood,
        existing: new Set(objects.map((o) => o.key)),
        namespace: this.opts.namespace,
        ...(this.opts.settings ? { settings: this.opts.settings } : {}),
      });
      this.lastInputs = inputs;
      this.rejections.report(acceptance.rejected, new Set(acceptance.served.map((r) => keyOf(r, this.opts.namespace))));
    }
    const view: KubernetesView = { objects, acceptance: acceptance!, secrets: this.secrets, builtAtMs: Date.now() };
    this.view = view;
    this.opts.metrics?.observe(view);
    if (changed) {
      const a = view.acceptance;
      this.deliver?.({ resources: a.served, refusedIssuers: a.refusedIssuers, rejected: [...a.rejected.values()].flat(), fatal: a.global, files: [] });
    }
    for (const l of this.listeners) l(view);
  }

}
