/**
 * Secrets named by a TrustedIssuer's `jwks.secretRef`, and only those: one list+watch per
 * Secret with `fieldSelector=metadata.name=<name>` in the issuer's namespace. Nothing else
 * in the cluster is read, and because the API server authorizes such a request against
 * `resourceNames`, RBAC can be narrowed to the named Secrets (docs/kubernetes.md).
 */
import type { CompiledIssuer } from '../../compile/snapshot.js';
import type { Logger } from '../../telemetry/logger.js';
import { KubeApiError, type KubeClient, type KubeObject } from './kube-client.js';
import { ListWatch, type ListWatchMetrics } from './list-watch.js';

export interface SecretRefStatus {
  state: 'found' | 'secretNotFound' | 'keyNotFound' | 'ambiguousKey' | 'unreadable' | 'pending';
  message: string;
  content?: Buffer;
}

export interface SecretWatchOptions {
  client: KubeClient;
  relistIntervalMs: number;
  idleTimeoutMs: number;
  onChange: () => void;
  logger: Logger;
  metrics?: ListWatchMetrics;
}

export class SecretWatches {
  private readonly watches = new Map<string, ListWatch>();

  constructor(private readonly opts: SecretWatchOptions) {}

  /** Starts watches for newly referenced Secrets and stops the ones no longer referenced. */
  reconcile(refs: Iterable<{ namespace: string; name: string }>): void {
    const wanted = new Set<string>();
    for (const { namespace, name } of refs) {
      const id = `${namespace}/${name}`;
      wanted.add(id);
      if (this.watches.has(id)) continue;
      const lw = new ListWatch({
        client: this.opts.client,
        path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets`,
        fieldSelector: `metadata.name=${name}`,
        resource: 'secrets',
        relistIntervalMs: this.opts.relistIntervalMs,
        idleTimeoutMs: this.opts.idleTimeoutMs,
        onChange: this.opts.onChange,
        logger: this.opts.logger,
        ...(this.opts.metrics ? { metrics: this.opts.metrics } : {}),
      });
      this.watches.set(id, lw);
      lw.start();
    }
    for (const [id, lw] of this.watches) {
      if (!wanted.has(id)) {
        lw.stop();
        this.watches.delete(id);
      }
    }
  }

  /** Resolves when every watched Secret has been listed once, or after timeoutMs. */
  async waitSynced(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all([...this.watches.values()].map((w) => w.whenSynced)),
      new Promise<void>((resolve) => { timer = setTimeout(resolve, timeoutMs); }),
    ]);
    clearTimeout(timer);
  }

  /**
   * `key` defaults to the Secret's only data key; with several keys it must be named.
   * The content is a JWKS document or PEM public key(s), or an HMAC key (see parseKeyFile).
   */
  lookup(namespace: string, name: string, key: string | undefined): SecretRefStatus {
    const lw = this.watches.get(`${namespace}/${name}`);
    if (lw && !lw.synced && lw.lastError) {
      const forbidden = lw.lastError instanceof KubeApiError && lw.lastError.status === 403;
      const why = forbidden ? 'forbidden: grant claimcheck-secret-reader in this namespace (docs/kubernetes.md, RBAC)' : lw.lastError.message;
      return { state: 'unreadable', message: `cannot read Secret ${namespace}/${name}: ${why}` };
    }
    if (!lw || !lw.synced) return { state: 'pending', message: `Secret ${namespace}/${name} not read yet` };
    const secret = lw.store.get(`${namespace}/${name}`) as (KubeObject & { data?: Record<string, string> }) | undefined;
    if (!secret) return { state: 'secretNotFound', message: `Secret ${namespace}/${name} not found` };
    const data = secret.data ?? {};
    const keys = Object.keys(data);
    let chosen = key;
    if (chosen === undefined) {
      if (keys.length !== 1) return { state: 'ambiguousKey', message: `Secret ${namespace}/${name} has ${keys.length} keys; set jwks.secretRef.key` };
      chosen = keys[0]!;
    }
    const value = data[chosen];
    if (value === undefined) return { state: 'keyNotFound', message: `Secret ${namespace}/${name} has no key ${JSON.stringify(chosen)}` };
    return { state: 'found', message: `Secret ${namespace}/${name} key ${JSON.stringify(chosen)}`, content: Buffer.from(value, 'base64') };
  }

  /** The KeyRegistry's SecretReader: polled by the issuer's key set, so a rotated Secret is picked up. */
  readSecret = (issuer: CompiledIssuer, named?: { name?: string; key?: string }): Buffer | undefined => {
    const ref = named ?? issuer.jwks.secretRef;
    if (!ref?.name) return undefined;
    return this.lookup(issuer.namespace, ref.name, ref.key).content;
  };

  stop(): void {
    for (const lw of this.watches.values()) lw.stop();
    this.watches.clear();
  }
}
