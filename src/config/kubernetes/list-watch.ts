/**
 * One collection (a kind in a namespace or cluster-wide), kept in memory by list + watch
 * that never silently stops. @kubernetes/client-node's informer gives up for good on any
 * error other than 410 and never relists (kubernetes-client/javascript #364, #596, #3020),
 * so this follows client-go's reflector instead:
 *  - any error: retry with capped, jittered exponential backoff, resuming from the last
 *    resourceVersion seen (events, bookmarks);
 *  - 410 Gone (the resourceVersion was compacted away): relist at once;
 *  - a relist every `relistIntervalMs`, which also repairs anything a watch might have missed;
 *  - a watchdog: no event or bookmark for `idleTimeoutMs` restarts the watch (a half-open
 *    connection looks exactly like a quiet one);
 *  - `synced` only after the first complete list.
 * Callbacks only record the change and call `onChange`, which must merely enqueue.
 */
import type { Logger } from '../../telemetry/logger.js';
import { KubeApiError, type KubeClient, type KubeObject, type WatchHandle } from './kube-client.js';

export interface ListWatchMetrics {
  relist(resource: string, reason: 'initial' | 'expired' | 'periodic' | 'error'): void;
  watchRestart(resource: string, reason: 'closed' | 'error' | 'idle' | 'expired'): void;
}

export interface ListWatchOptions {
  client: KubeClient;
  /** collection path, e.g. /apis/claimcheck.io/v1alpha1/authpolicies */
  path: string;
  /** bounded label for logs and metrics, e.g. authpolicies */
  resource: string;
  fieldSelector?: string;
  relistIntervalMs: number;
  idleTimeoutMs: number;
  onChange: () => void;
  logger: Logger;
  metrics?: ListWatchMetrics;
  /** first retry delay; doubles up to maxBackoffMs */
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

type WatchEnd = 'closed' | 'expired' | 'idle' | 'relist' | 'stopped';

const PAGE_SIZE = 500;

export function objectKey(o: KubeObject): string {
  return `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

export class ListWatch {
  /** namespace/name → the latest object seen */
  readonly store = new Map<string, KubeObject>();
  synced = false;
  /** the error of the latest failed list or watch; cleared by a successful list */
  lastError: Error | undefined;
  readonly whenSynced: Promise<void>;
  private resolveSynced!: () => void;
  private resourceVersion = '';
  private stopped = false;
  private failures = 0;
  private lastListMs = 0;
  private current: { handle?: WatchHandle; end: (why: WatchEnd, err?: unknown) => void } | undefined;
  private sleeper: { timer: NodeJS.Timeout; wake: () => void } | undefined;

  constructor(private readonly opts: ListWatchOptions) {
    this.whenSynced = new Promise((resolve) => { this.resolveSynced = resolve; });
  }

  start(): void {
    void this.run();
  }

  stop(): void {
    this.stopped = true;
    this.current?.end('stopped');
    if (this.sleeper) {
      clearTimeout(this.sleeper.timer);
      this.sleeper.wake();
    }
  }

  private async run(): Promise<void> {
    let needList = true;
    let listReason: 'initial' | 'expired' | 'periodic' | 'error' = 'initial';
    while (!this.stopped) {
      try {
        if (needList) {
          await this.list(listReason);
          needList = false;
        }
        const started = Date.now();
        const end = await this.watchOnce();
        if (end === 'closed' && Date.now() - started < 1_000) {
          // a server (or proxy) that ends every watch at once must not make this a busy loop
          this.failures++;
          await this.sleep(this.backoffMs());
          continue;
        }
        this.failures = 0;
        if (end === 'expired' || end === 'relist') {
          needList = true;
          listReason = end === 'expired' ? 'expired' : 'periodic';
        }
      } catch (err) {
        if (this.stopped) return;
        this.failures++;
        const expired = err instanceof KubeApiError && err.status === 410;
        if (!expired) this.lastError = err as Error;
        if (expired) {
          needList = true;
          listReason = 'expired';
          this.opts.metrics?.watchRestart(this.opts.resource, 'expired');
          this.opts.logger.info({ resource: this.opts.resource }, 'watch expired (410 Gone); relisting');
          continue;
        }
        // A list that failed half way must be redone; a failed watch resumes from the last resourceVersion.
        if (needList) listReason = this.synced ? 'error' : listReason;
        else this.opts.metrics?.watchRestart(this.opts.resource, 'error');
        const delay = this.backoffMs();
        this.opts.logger.warn({ resource: this.opts.resource, err: (err as Error).message, failures: this.failures, retryInMs: delay }, 'kubernetes list/watch failed; retrying');
        await this.sleep(delay);
      }
    }
  }

  private backoffMs(): number {
    const min = this.opts.minBackoffMs ?? 200;
    const max = this.opts.maxBackoffMs ?? 10_000;
    const d = Math.min(max, min * 2 ** Math.min(this.failures - 1, 20));
    return Math.round(d * (0.8 + Math.random() * 0.4));
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.sleeper = undefined; resolve(); }, ms);
      this.sleeper = { timer, wake: resolve };
    });
  }

  private params(extra: Record<string, string>): Record<string, string> {
    return this.opts.fieldSelector ? { ...extra, fieldSelector: this.opts.fieldSelector } : extra;
  }

  /** A full, paginated list that replaces the store; only real differences call onChange. */
  private async list(reason: 'initial' | 'expired' | 'periodic' | 'error'): Promise<void> {
    const fresh = new Map<string, KubeObject>();
    let cont = '';
    let rv = '';
    do {
      const page = await this.opts.client.request<{ items?: KubeObject[]; metadata?: { resourceVersion?: string; continue?: string } }>(
        'GET', `${this.opts.path}?${new URLSearchParams(this.params({ limit: String(PAGE_SIZE), ...(cont ? { continue: cont } : {}) }))}`,
      );
      for (const item of page.items ?? []) fresh.set(objectKey(item), item);
      cont = page.metadata?.continue ?? '';
      rv = page.metadata?.resourceVersion ?? '';
    } while (cont && !this.stopped);
    if (this.stopped) return;
    let changed = fresh.size !== this.store.size;
    for (const [key, obj] of fresh) {
      if (this.store.get(key)?.metadata.resourceVersion !== obj.metadata.resourceVersion) changed = true;
    }
    this.store.clear();
    for (const [key, obj] of fresh) this.store.set(key, obj);
    this.resourceVersion = rv;
    this.lastListMs = Date.now();
    this.lastError = undefined;
    this.opts.metrics?.relist(this.opts.resource, reason);
    this.opts.logger.debug({ resource: this.opts.resource, items: fresh.size, resourceVersion: rv, reason }, 'kubernetes list complete');
    if (!this.synced) {
      this.synced = true;
      this.resolveSynced();
      changed = true;
    }
    if (changed) this.opts.onChange();
  }

  /** Watches from the last resourceVersion until the stream ends; rejects on errors (410 included). */
  private watchOnce(): Promise<WatchEnd> {
    return new Promise<WatchEnd>((resolve, reject) => {
      let lastEventMs = Date.now();
      let finished = false;
      const relistAt = this.lastListMs + this.opts.relistIntervalMs;
      const tick = Math.max(50, Math.min(this.opts.idleTimeoutMs / 4, 5_000));
      const timer = setInterval(() => {
        const now = Date.now();
        if (now - lastEventMs > this.opts.idleTimeoutMs) {
          this.opts.metrics?.watchRestart(this.opts.resource, 'idle');
          this.opts.logger.warn({ resource: this.opts.resource, idleMs: now - lastEventMs }, 'no watch event or bookmark within the idle timeout; restarting the watch');
          end('idle');
        } else if (now >= relistAt) {
          end('relist');
        }
      }, tick);
      timer.unref();
      const end = (why: WatchEnd, err?: unknown) => {
        if (finished) return;
        finished = true;
        clearInterval(timer);
        this.current?.handle?.abort();
        this.current = undefined;
        if (err) reject(err);
        else resolve(why);
      };
      this.current = { end };
      // Like client-go: the server ends each watch after 5-10 minutes, so a stuck one cannot last.
      const timeoutSeconds = String(300 + Math.floor(Math.random() * 300));
      const query = this.params({ allowWatchBookmarks: 'true', resourceVersion: this.resourceVersion, timeoutSeconds });
      this.opts.client
        .watch(this.opts.path, query, (type, obj) => {
          lastEventMs = Date.now();
          if (type === 'ERROR') {
            const status = obj as { code?: number; reason?: string; message?: string };
            end('closed', new KubeApiError(status.code ?? 500, status.reason ?? '', `watch ${this.opts.resource}: ${status.code} ${status.message ?? ''}`));
            return;
          }
          const o = obj as KubeObject;
          const rv = o?.metadata?.resourceVersion;
          if (rv) this.resourceVersion = rv;
          if (type === 'BOOKMARK') return;
          const key = objectKey(o);
          if (type === 'DELETED') {
            if (this.store.delete(key)) this.opts.onChange();
          } else if (this.store.get(key)?.metadata.resourceVersion !== rv) {
            this.store.set(key, o);
            this.opts.onChange();
          }
        }, (err) => {
          if (err) end('closed', err);
          else {
            this.opts.metrics?.watchRestart(this.opts.resource, 'closed');
            end('closed');
          }
        })
        .then((handle) => {
          if (finished) handle.abort();
          else if (this.current) this.current.handle = handle;
        }, (err) => end('closed', err));
    });
  }
}
