/**
 * What the Kubernetes tests share: CRDs and RBAC installed from the repository's own files,
 * a ServiceAccount token bound to claimcheck's ClusterRole (not system:masters), fresh
 * namespaces, signed tokens, and claimcheck processes in Kubernetes mode.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { parseAllDocuments } from 'yaml';
import { after, afterEach, before } from 'node:test';
import { generateKey, signToken, type TestKey } from '../helpers/tokens.js';
import { startClaimcheck, eventually, type ClaimcheckProcess } from '../helpers/claimcheck-process.js';
import { createEnvoyClient, type EnvoyClient } from '../helpers/envoy-client.js';
import { REPO, type ApiserverInstance, type KubeApiserver } from './harness.js';

/** any API server instance of the test control plane (admin credentials) */
export type Requester = Pick<ApiserverInstance, 'request'>;

export const ISSUER_URL = 'https://idp.k8s-test.invalid';
export const AUDIENCE = 'k8s-api';
const GROUP = '/apis/claimcheck.io/v1alpha1';

/** Applies charts/claimcheck/crds/*.yaml and waits until each CRD is Established. */
export async function installCrds(api: KubeApiserver): Promise<void> {
  const dir = join(REPO, 'charts/claimcheck/crds');
  const r = await api.kubectl(['apply', '--server-side', '-f', dir]);
  if (r.code !== 0) throw new Error(`kubectl apply CRDs failed: ${r.stderr}`);
  const names = readdirSync(dir).filter((f) => f.endsWith('.yaml')).map((f) => f.replace(/^claimcheck\.io_(.*)\.yaml$/, '$1.claimcheck.io'));
  const w = await api.kubectl(['wait', '--for=condition=Established', '--timeout=60s', ...names.map((n) => `crd/${n}`)]);
  if (w.code !== 0) throw new Error(`CRDs not established: ${w.stderr}`);
  // discovery of the new group can lag a moment behind Established
  await eventually(async () => (await api.request('GET', `${GROUP}/authpolicies`)).status === 200, 30_000, 100);
}

export async function createNamespace(api: KubeApiserver, prefix: string): Promise<string> {
  const name = `${prefix}-${randomUUID().slice(0, 6)}`;
  const r = await api.request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  if (r.status !== 201) throw new Error(`cannot create namespace ${name}: ${JSON.stringify(r.body)}`);
  return name;
}

/**
 * Installs deploy/rbac/*.yaml for a claimcheck running in `namespace` (bindings.yaml with
 * claimcheck-system replaced), and returns a kubeconfig holding a TokenRequest token of
 * its ServiceAccount.
 */
export async function claimcheckIdentity(api: KubeApiserver, namespace: string, server?: string): Promise<string> {
  const rbac = join(REPO, 'deploy/rbac');
  for (const file of ['clusterrole.yaml', 'secret-reader.yaml']) {
    const r = await api.kubectl(['apply', '-f', join(rbac, file)]);
    if (r.code !== 0) throw new Error(`kubectl apply ${file}: ${r.stderr}`);
  }
  const role = await api.kubectl(['apply', '-n', namespace, '-f', join(rbac, 'leader-election-role.yaml')]);
  if (role.code !== 0) throw new Error(`kubectl apply leader-election-role.yaml: ${role.stderr}`);
  const docs = parseAllDocuments(readFileSync(join(rbac, 'bindings.yaml'), 'utf8').replaceAll('claimcheck-system', namespace)).map((d) => d.toJS());
  for (const d of docs) if (d.kind === 'ClusterRoleBinding') d.metadata.name = `claimcheck-${namespace}`; // cluster-scoped: one per test namespace
  const b = await api.kubectl(['apply', '-f', '-'], { input: docs.map((d) => JSON.stringify(d)).join('\n') });
  if (b.code !== 0) throw new Error(`kubectl apply bindings.yaml: ${b.stderr}`);
  const tr = await api.request('POST', `/api/v1/namespaces/${namespace}/serviceaccounts/claimcheck/token`, {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: { expirationSeconds: 3600 },
  });
  if (tr.status !== 201) throw new Error(`TokenRequest failed: ${JSON.stringify(tr.body)}`);
  return api.writeKubeconfig(`claimcheck-${namespace}`, tr.body.status.token, server);
}

/** Lets the claimcheck ServiceAccount of `saNamespace` read Secrets in `namespace` (secret-reader.yaml). */
export async function allowSecrets(api: KubeApiserver, namespace: string, saNamespace: string): Promise<void> {
  const r = await api.request('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}/rolebindings`, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: 'claimcheck-secret-reader' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'claimcheck-secret-reader' },
    subjects: [{ kind: 'ServiceAccount', name: 'claimcheck', namespace: saNamespace }],
  });
  if (r.status !== 201) throw new Error(`RoleBinding failed: ${JSON.stringify(r.body)}`);
}

export type Plural = 'trustedissuers' | 'authpolicies' | 'tokenrevocations';

const KIND: Record<Plural, string> = { trustedissuers: 'TrustedIssuer', authpolicies: 'AuthPolicy', tokenrevocations: 'TokenRevocation' };

/** The admin creates a resource; resolves to the API's answer (status 201 or the rejection). */
export function create(api: Requester, plural: Plural, namespace: string, name: string, spec: unknown) {
  return api.request('POST', `${GROUP}/namespaces/${namespace}/${plural}`, {
    apiVersion: 'claimcheck.io/v1alpha1',
    kind: KIND[plural],
    metadata: { name, namespace },
    spec,
  });
}

export async function mustCreate(api: Requester, plural: Plural, namespace: string, name: string, spec: unknown): Promise<any> {
  const r = await create(api, plural, namespace, name, spec);
  if (r.status !== 201) throw new Error(`create ${plural} ${namespace}/${name}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

export async function mergePatch(api: Requester, plural: Plural, namespace: string, name: string, patch: unknown): Promise<any> {
  const r = await api.request('PATCH', `${GROUP}/namespaces/${namespace}/${plural}/${name}`, patch, 'application/merge-patch+json');
  if (r.status !== 200) throw new Error(`patch ${plural} ${namespace}/${name}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

export async function remove(api: Requester, plural: Plural, namespace: string, name: string): Promise<void> {
  const r = await api.request('DELETE', `${GROUP}/namespaces/${namespace}/${plural}/${name}`);
  if (r.status !== 200) throw new Error(`delete ${plural} ${namespace}/${name}: ${r.status} ${JSON.stringify(r.body)}`);
}

export async function get(api: Requester, plural: Plural, namespace: string, name: string): Promise<any> {
  const r = await api.request('GET', `${GROUP}/namespaces/${namespace}/${plural}/${name}`);
  if (r.status !== 200) throw new Error(`get ${plural} ${namespace}/${name}: ${r.status}`);
  return r.body;
}

export function condition(obj: any, type: string): { status: string; reason: string; message: string; observedGeneration: number } | undefined {
  return (obj?.status?.conditions ?? []).find((c: any) => c.type === type);
}

/** A signing key and the TrustedIssuer spec that trusts it (inline JWKS). */
export interface TestIssuer {
  key: TestKey;
  spec: Record<string, unknown>;
  token(claims?: Record<string, unknown>): Promise<string>;
}

export function testIssuer(kid = 'k1', issuer = ISSUER_URL): TestIssuer {
  const key = generateKey('ES256', kid);
  return {
    key,
    spec: { issuer, jwks: { inline: { keys: [key.jwk] } }, audiences: [AUDIENCE] },
    token: (claims = {}) => {
      const now = Math.floor(Date.now() / 1000);
      return signToken({ iss: issuer, aud: AUDIENCE, sub: 'user-1', iat: now, exp: now + 600, jti: randomUUID(), scope: 'read', ...claims }, { key });
    },
  };
}

export function policySpec(host: string, issuers: string[], rules?: unknown[]): Record<string, unknown> {
  return {
    hosts: [host],
    issuers,
    rules: rules ?? [{ name: 'read', match: { paths: ['/api/**'] }, require: { scopes: { anyOf: ['read'] } } }],
  };
}

export interface K8sClaimcheckOptions {
  kubeconfig: string;
  namespace: string;
  podName?: string;
  args?: string[];
}

/** A real `claimcheck serve --config-source kubernetes` process. */
export function startK8sClaimcheck(o: K8sClaimcheckOptions): Promise<ClaimcheckProcess> {
  return startClaimcheck({
    configDir: REPO, // unused in kubernetes mode
    args: [
      '--config-source', 'kubernetes',
      '--kubeconfig', o.kubeconfig,
      '--namespace', o.namespace,
      '--workers', '1',
      '--lease-duration', '3s',
      '--pod-name', o.podName ?? `claimcheck-${randomUUID().slice(0, 6)}`,
      '--log-level', 'debug',
      ...(o.args ?? []),
    ],
  });
}

/** A sample's value from Prometheus text (0 when absent); `labels` must all match. */
export function metric(text: string, name: string, labels: Record<string, string> = {}): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    const bare = line.startsWith(`${name} `);
    if (!bare && !line.startsWith(`${name}{`)) continue;
    const inner = bare ? '' : line.slice(name.length + 1, line.indexOf('}'));
    if (want.every((w) => inner.split(',').includes(w))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

/** `eventually` for lookups: resolves to the first defined, truthy value. */
export async function settled<T>(fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 5_000, intervalMs = 50): Promise<NonNullable<T>> {
  return (await eventually(fn, timeoutMs, intervalMs)) as NonNullable<T>;
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

/**
 * claimcheck's namespace with its RBAC, `apps` app namespaces, and `replicas` claimcheck
 * processes watching them (stopped through `cleanups`).
 */
export async function startScenario(api: KubeApiserver, cleanups: (() => Promise<void> | void)[], apps: number, opts: { replicas?: number } = {}) {
  const ns = await createNamespace(api, 'cc');
  const kubeconfig = await claimcheckIdentity(api, ns);
  const appNs: string[] = [];
  for (let i = 0; i < apps; i++) appNs.push(await createNamespace(api, 'app'));
  const procs: ClaimcheckProcess[] = [];
  const clients: EnvoyClient[] = [];
  for (let i = 0; i < (opts.replicas ?? 1); i++) {
    const cc = await startK8sClaimcheck({ kubeconfig, namespace: ns, args: ['--watch-namespaces', appNs.join(',')] });
    procs.push(cc);
    const client = createEnvoyClient(cc.grpcAddress);
    clients.push(client);
    cleanups.push(async () => { client.close(); await cc.stop(); });
  }
  return { ns, kubeconfig, apps: appNs, procs, clients, client: clients[0]! };
}

/**
 * Registers the per-file hooks every Kubernetes suite shares: one API server with the CRDs
 * for the file, and cleanups run after each test. Call inside `describe`.
 */
export function useApiserver(start: () => Promise<KubeApiserver>, onReady: (api: KubeApiserver) => void): { cleanups: (() => Promise<void> | void)[] } {
  let api: KubeApiserver | undefined;
  const cleanups: (() => Promise<void> | void)[] = [];
  before(async () => {
    api = await start();
    await installCrds(api);
    onReady(api);
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  after(async () => {
    await api?.stop();
  });
  return { cleanups };
}
