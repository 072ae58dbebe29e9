/** Leader election + status writer: every replica campaigns, only the Lease holder writes status. */
import type { KubernetesOptions } from '../kubernetes-options.js';
import type { KubeClient } from '../kube-client.js';
import type { KubernetesSource } from '../kubernetes-source.js';
import type { Logger } from '../../../telemetry/logger.js';
import type { Metrics } from '../../../telemetry/metrics.js';
import type { IssuerKeyStatus } from './conditions.js';
import { LeaseElector } from './lease-elector.js';
import { StatusWriter } from './status-writer.js';

export interface StatusReporting {
  readonly isLeader: boolean;
  stop(): Promise<void>;
}

export function startStatusReporting(deps: {
  client: KubeClient;
  source: KubernetesSource;
  namespace: string;
  options: Readonly<KubernetesOptions>;
  keyStatus: () => IssuerKeyStatus[];
  logger: Logger;
  metrics?: Metrics;
}): StatusReporting {
  const { options, metrics } = deps;
  const logger = deps.logger.child({ component: 'status' });
  const writer = new StatusWriter({
    client: deps.client,
    source: deps.source,
    namespace: deps.namespace,
    identity: options.podName,
    keyStatus: deps.keyStatus,
    logger,
    ...(metrics ? { metrics: { statusWrite: (kind, result) => metrics.statusWrites.inc({ kind, result }) } } : {}),
  });
  const elector = new LeaseElector({
    client: deps.client,
    namespace: options.leaderElectionNamespace,
    name: options.leaseName,
    identity: options.podName,
    leaseDurationMs: options.leaseDurationMs,
    logger,
    onStartedLeading: () => {
      metrics?.leader.set(1);
      writer.setActive(true);
    },
    onStoppedLeading: () => {
      metrics?.leader.set(0);
      writer.setActive(false);
    },
  });
  metrics?.leader.set(0);
  elector.start();
  return {
    get isLeader() {
      return elector.isLeader;
    },
    stop: async () => {
      writer.stop();
      await elector.stop();
    },
  };
}
