/** `--config-source kubernetes`: the watching source, wired to the API server and to metrics, plus the status writer. */
import type { Logger } from '../../telemetry/logger.js';
import type { Metrics } from '../../telemetry/metrics.js';
import { startStatusReporting, type StatusReporting } from './status/start-status.js';
import { compileSettings, type ConfigSource, type ConfigSourceOptions } from '../config-source.js';
import { createKubeClient, loadKubeConfig } from './kube-client.js';
import { KubernetesSource, type KubernetesView } from './kubernetes-source.js';
import { WATCHED_KINDS } from './to-resource.js';

export function createKubernetesConfigSource(opts: Readonly<ConfigSourceOptions>, logger: Logger, metrics?: Metrics): ConfigSource {
  const k = opts.kubernetes;
  const client = createKubeClient(loadKubeConfig(k.kubeconfig), `claimcheck/${k.podName}`);
  const log = logger.child({ component: 'kubernetes' });
  const source = new KubernetesSource({
    client,
    namespace: opts.namespace,
    settings: compileSettings(opts),
    watchNamespaces: k.watchNamespaces,
    relistIntervalMs: k.relistIntervalMs,
    idleTimeoutMs: k.watchIdleTimeoutMs,
    logger: log,
    ...(metrics ? {
      metrics: {
        relist: (resource: string, reason: string) => metrics.kubeRelists.inc({ resource, reason }),
        watchRestart: (resource: string, reason: string) => metrics.kubeWatchRestarts.inc({ resource, reason }),
        observe: (view: KubernetesView) => {
          for (const { kind } of WATCHED_KINDS) {
            metrics.kubeObjects.set({ kind }, view.objects.filter((o) => o.info.kind === kind).length);
            metrics.kubeRejected.set({ kind }, [...view.acceptance.rejected.keys()].filter((key) => key.startsWith(`${kind}/`)).length);
          }
        },
      },
    } : {}),
  });
  let status: StatusReporting | undefined;
  return {
    description: source.description,
    start: (cb) => source.start(cb),
    stop: async () => {
      source.stop();
      await status?.stop();
    },
    readSecret: source.secrets.readSecret,
    startStatus: ({ keyStatus, identitySuffix = '' }) => {
      // cluster workers (--workers) of one pod campaign separately: one identity per process
      const options = { ...k, podName: k.podName + identitySuffix };
      status ??= startStatusReporting({ client, source, namespace: opts.namespace, options, keyStatus, logger, ...(metrics ? { metrics } : {}) });
    },
  };
}
