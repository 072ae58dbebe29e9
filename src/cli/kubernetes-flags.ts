/** The flags of `--config-source kubernetes` (docs/kubernetes.md "Flags"). */
import { optional, text, withDefault } from './flag.js';
import { durationMs, namespaceList } from './flag-values.js';

const K = 'kubernetes' as const;

export const KUBERNETES_FLAGS = {
  kubeconfig: optional(['serve'], text, {
    value: 'FILE',
    group: K,
    defaultText: '$KUBECONFIG, the in-cluster ServiceAccount, ~/.kube/config',
    help: 'the kubeconfig for --config-source kubernetes',
    doc: 'a kubeconfig file; else `$KUBECONFIG`, else the in-cluster ServiceAccount, else `~/.kube/config`; none of them is a startup error (no silent `localhost:8080`)',
  }),
  'watch-namespaces': withDefault(['serve'], '', namespaceList, {
    value: 'NS,NS',
    group: K,
    defaultText: 'all namespaces',
    help: "namespaces to watch; claimcheck's own is always added",
    doc: "comma-separated; claimcheck's own namespace is always added (its issuers are mesh-wide)",
  }),
  'leader-election-namespace': optional(['serve'], text, {
    value: 'NS',
    group: K,
    defaultText: '--namespace',
    help: 'where the status Lease lives',
  }),
  'lease-name': withDefault(['serve'], 'claimcheck-status', text, {
    value: 'NAME',
    group: K,
    help: 'the coordination.k8s.io/v1 Lease of the status writer',
  }),
  'lease-duration': withDefault(['serve'], '15s', durationMs(1000), {
    value: 'DURATION',
    group: K,
    help: 'a dead leader is replaced after this long',
    doc: "a dead leader is replaced after this long; renew deadline ⅔ of it, retry every ⅟₇.₅ (client-go's 15 s / 10 s / 2 s)",
  }),
  'pod-name': optional(['serve'], text, {
    value: 'NAME',
    group: K,
    defaultText: '$POD_NAME, else hostname + random suffix',
    help: "this replica's identity in the Lease",
    doc: "this replica's identity in the Lease and in `managedFields` (`claimcheck-<identity>`); with `--workers N` each worker appends `-w<id>`",
  }),
  'kube-relist-interval': withDefault(['serve'], '10m', durationMs(1000), {
    value: 'DURATION',
    group: K,
    help: 'full relist of every collection',
    doc: 'full relist of every collection, repairing anything a watch could have missed',
  }),
  'kube-watch-idle-timeout': withDefault(['serve'], '5m', durationMs(1000), {
    value: 'DURATION',
    group: K,
    help: 'a watch silent for this long is restarted',
    doc: 'the watchdog: a watch with no event and no bookmark for this long is restarted (the API server sends a bookmark about every minute)',
  }),
} as const;
