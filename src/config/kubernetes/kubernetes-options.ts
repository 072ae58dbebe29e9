/** What the Kubernetes source needs from the command line (docs/kubernetes.md "Flags"). */
export interface KubernetesOptions {
  /** empty: all namespaces */
  watchNamespaces: readonly string[];
  kubeconfig?: string;
  leaderElectionNamespace: string;
  leaseName: string;
  leaseDurationMs: number;
  /** this replica's identity in the Lease */
  podName: string;
  relistIntervalMs: number;
  watchIdleTimeoutMs: number;
}
