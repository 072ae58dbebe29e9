/** What main.ts needs from a configuration source; file and Kubernetes sources implement it. */
import type { LoadedConfig } from '../model/load-config-dir.js';
import type { ServeOptions } from '../cli.js';
import type { Logger } from '../telemetry/logger.js';
import { FileConfigSource } from './file-source.js';

export interface ConfigSource {
  /** Delivers the whole current resource set on every change; the first delivery happens before this resolves. */
  start(onChange: (loaded: LoadedConfig) => void): Promise<void>;
  stop(): void;
  /** a short description for logs, e.g. the directory */
  readonly description: string;
}

export function createConfigSource(opts: Readonly<ServeOptions>, logger: Logger): ConfigSource {
  if (opts.configSource === 'kubernetes') {
    throw new Error('--config-source kubernetes is not available in this build; use --config-source file');
  }
  const source = new FileConfigSource({ dir: opts.configDir, logger });
  return { start: (cb) => source.start(cb), stop: () => source.stop(), description: `file:${opts.configDir}` };
}
