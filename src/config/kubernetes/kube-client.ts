/**
 * The Kubernetes API as claimcheck uses it: JSON requests and watch streams, authenticated
 * by @kubernetes/client-node's KubeConfig (in-cluster token file, kubeconfig tokens,
 * client certificates, exec plugins). The only file that imports @kubernetes/client-node.
 */
import { existsSync } from 'node:fs';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { request as httpRequest } from 'node:http';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig, Watch } from '@kubernetes/client-node';
import { ClaimcheckError } from '../../errors.js';

/** What the API server said, for branching on `status` (404, 409, 410) and `reason` (Expired, Conflict). */
export class KubeApiError extends ClaimcheckError {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('kube_api_error', message, options);
  }
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    creationTimestamp?: string;
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchHandle {
  abort(): void;
}

export interface KubeClient {
  /** server URL, for logs */
  readonly server: string;
  /** JSON request; non-2xx statuses reject with KubeApiError */
  request<T = unknown>(method: string, path: string, opts?: { body?: unknown; contentType?: string; timeoutMs?: number }): Promise<T>;
  /**
   * Streams watch events for a collection path. `onDone` is called exactly once: null when
   * the server closed the stream, else the error.
   */
  watch(path: string, query: Record<string, string>, onEvent: (type: WatchEventType, obj: any) => void, onDone: (err: unknown) => void): Promise<WatchHandle>;
}

/** --kubeconfig, then KUBECONFIG, then the in-cluster ServiceAccount, then ~/.kube/config. */
export function loadKubeConfig(kubeconfigPath?: string): KubeConfig {
  const kc = new KubeConfig();
  if (kubeconfigPath) {
    kc.loadFromFile(kubeconfigPath);
  } else if (process.env.KUBECONFIG) {
    kc.loadFromDefault();
  } else if (process.env.KUBERNETES_SERVICE_HOST) {
    kc.loadFromCluster();
  } else if (existsSync(join(homedir(), '.kube', 'config'))) {
    kc.loadFromDefault();
  } else {
    // KubeConfig.loadFromDefault would silently fall back to http://localhost:8080
    throw new ClaimcheckError('kube_config_missing', 'no Kubernetes configuration: not running in a cluster, and neither --kubeconfig nor KUBECONFIG nor ~/.kube/config is set');
  }
  if (!kc.getCurrentCluster()) throw new ClaimcheckError('kube_config_missing', 'the kubeconfig has no current cluster');
  return kc;
}

function statusError(status: number, text: string, what: string): KubeApiError {
  let reason = '';
  let message = text.slice(0, 300);
  try {
    const s = JSON.parse(text) as { reason?: string; message?: string };
    reason = s.reason ?? '';
    message = s.message ?? message;
  } catch {
    // not a Status object
  }
  return new KubeApiError(status, reason, `${what}: ${status} ${message}`);
}

export function createKubeClient(kc: KubeConfig, userAgent = 'claimcheck'): KubeClient {
  const server = kc.getCurrentCluster()!.server.replace(/\/$/, '');
  const watcher = new Watch(kc);
  return {
    server,
    async request<T>(method: string, path: string, opts: { body?: unknown; contentType?: string; timeoutMs?: number } = {}): Promise<T> {
      const options: RequestOptions = {};
      await kc.applyToHTTPSOptions(options);
      const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
      const url = new URL(server + path);
      const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
      const what = `${method} ${url.pathname}`;
      return new Promise<T>((resolve, reject) => {
        const req = send(url, {
          ...options,
          method,
          timeout: opts.timeoutMs ?? 30_000,
          headers: {
            ...(options.headers as Record<string, string> | undefined),
            accept: 'application/json',
            'user-agent': userAgent,
            ...(payload !== undefined ? { 'content-type': opts.contentType ?? 'application/json', 'content-length': String(Buffer.byteLength(payload)) } : {}),
          },
        }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const status = res.statusCode ?? 0;
            if (status < 200 || status > 299) return reject(statusError(status, text, what));
            try {
              resolve((text ? JSON.parse(text) : undefined) as T);
            } catch (err) {
              reject(new KubeApiError(status, 'InvalidJSON', `${what}: response is not JSON`, { cause: err }));
            }
          });
        });
        req.on('timeout', () => req.destroy(new KubeApiError(0, 'Timeout', `${what}: no response within ${opts.timeoutMs ?? 30_000} ms`)));
        req.on('error', (err) => reject(err instanceof KubeApiError ? err : new KubeApiError(0, 'NetworkError', `${what}: ${err.message}`, { cause: err })));
        req.end(payload);
      });
    },
    async watch(path, query, onEvent, onDone) {
      let done = false;
      const finish = (err: unknown) => {
        if (done) return;
        done = true;
        if (err && typeof (err as { statusCode?: unknown }).statusCode === 'number') {
          const status = (err as { statusCode: number }).statusCode;
          onDone(new KubeApiError(status, status === 410 ? 'Expired' : '', `watch ${path}: ${status} ${(err as Error).message}`));
        } else if (err && (err as Error).name === 'AbortError') {
          onDone(null);
        } else {
          onDone(err ?? null);
        }
      };
      const controller = await watcher.watch(path, query, (type, obj) => {
        if (!done) onEvent(type as WatchEventType, obj);
      }, finish);
      return {
        abort: () => {
          done = true;
          controller.abort();
        },
      };
    },
  };
}
