/** What main.ts needs from a configuration source; file and Kubernetes sources implement it. */
import type { ConfigDelivery } from './config-delivery.js';
import type { KubernetesOptions } from './kubernetes/kubernetes-options.js';
import type { SecretReader } from '../keys/local-key-source.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { IssuerKeyStatus } from './kubernetes/status/conditions.js';
import { FileConfigSource } from './file-source.js';
import { FileAcceptance } from './file-acceptance.js';
import type { CompileSettings } from '../compile/compile-snapshot.js';

export interface ConfigSource {
  /** Delivers the whole current resource set on every change; the first delivery happens before this resolves. */
  start(onChange: (delivery: ConfigDelivery) => void): Promise<void>;
  stop(): void | Promise<void>;
  /** a short description for logs, e.g. the directory */
  readonly description: string;
  /** kubernetes: the content of Secrets named by `jwks.secretRef`, for the key registry */
  readonly readSecret?: SecretReader;
  /** kubernetes: start leader election and the status writer (needs the key sets' state) */
  startStatus?(deps: { keyStatus: () => IssuerKeyStatus[]; identitySuffix?: string }): void;
}

/** The part of the command line a configuration source reads. */
export interface ConfigSourceOptions {
  configSource: 'file' | 'kubernetes';
  configDir: string;
  namespace: string;
  kubernetes: Readonly<KubernetesOptions>;
  /** --identity-issuer: without it a policy with identity.token is refused */
  identity?: Readonly<{ issuer: string }>;
  /** --cel-cost-limit */
  celCostLimit?: number;
}

/** The compile settings these options decide, for every compile of the server (sources and main). */
export function compileSettings(opts: Readonly<ConfigSourceOptions>): CompileSettings {
  return { identityIssuer: opts.identity?.issuer ?? null, ...(opts.celCostLimit !== undefined ? { celCostLimit: opts.celCostLimit } : {}) };
}

export async function createConfigSource(opts: Readonly<ConfigSourceOptions>, logger: Logger, metrics?: Metrics): Promise<ConfigSource> {
  // Loaded only in Kubernetes mode: @kubernetes/client-node alone is ~55 MiB of RSS (docs/performance.md).
  if (opts.configSource === 'kubernetes') {
    const { createKubernetesConfigSource } = await import('./kubernetes/create-source.js');
    return createKubernetesConfigSource(opts, logger, metrics);
  }
  const source = new FileConfigSource({ dir: opts.configDir, logger });
  const acceptance = new FileAcceptance(opts.namespace, logger, compileSettings(opts));
  return {
    start: (cb) => source.start(async (loaded) => cb(await acceptance.accept(loaded))),
    stop: () => source.stop(),
    description: `file:${opts.configDir}`,
  };
}
