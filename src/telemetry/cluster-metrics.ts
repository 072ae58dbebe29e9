/**
 * Metrics across node:cluster workers, over prom-client's IPC aggregation: workers expose
 * their registry, the primary sums them for /metrics (gauges by each metric's aggregator).
 */
import { AggregatorRegistry, type Registry } from 'prom-client';

export type { Registry };

/** In a worker: answer the primary's requests for this registry. */
export function exposeToPrimary(registry: Registry): void {
  // Constructing one installs prom-client's worker-side listener; setRegistries picks ours.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([registry]);
}

/** In the primary: every worker's metrics, aggregated, in the shape the HTTP server takes. */
export function clusterRegistry(): { readonly contentType: string; metrics(): Promise<string> } {
  const aggregator = new AggregatorRegistry();
  return { metrics: () => aggregator.clusterMetrics(), contentType: aggregator.contentType };
}
