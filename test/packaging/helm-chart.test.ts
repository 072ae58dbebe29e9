/**
 * The Helm chart with the real helm (scripts/helm-tool.sh): lint, schema, and what
 * the rendered objects promise. Applying them to a real API server is in
 * helm-apiserver.test.ts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { BIN, REPO, startClaimcheck, type ClaimcheckProcess } from '../helpers/claimcheck-process.js';
import { parseServe } from '../../src/cli.js';
import { CHART, ciValues, helm, helmPath, helmSkipReason, parseDocs, schemaRejection, template, valuesFile, type K8sObject } from './lib/tools.js';
import { assertAllowsAndDenies, demoToken } from './lib/demo-requests.js';
import { rbacTriples, rulesOf } from './lib/rbac.js';
import { skipFor } from '../helpers/skip.js';

const skip = skipFor('Helm chart suite', helmSkipReason());

const CI_FILES = ['ha-values.yaml', 'file-source-values.yaml', 'minimal-values.yaml'];

const find = (docs: K8sObject[], kind: string, name?: string) => {
  const found = docs.filter((d) => d.kind === kind && (name === undefined || d.metadata.name === name));
  assert.ok(found.length > 0, `no ${kind}${name ? ` ${name}` : ''} rendered (got ${docs.map((d) => d.kind).join(', ')})`);
  return found;
};
const deploymentOf = (docs: K8sObject[]) => find(docs, 'Deployment')[0]!;
const containerOf = (docs: K8sObject[]) => deploymentOf(docs).spec.template.spec.containers.find((c: any) => c.name === 'claimcheck');

describe('Helm chart: lint and values schema', { skip }, () => {
  before(() => {
    helmPath();
  });

  test('helm lint --strict passes with the default values and every ci/ values file', () => {
    assert.deepEqual(readdirSync(join(CHART, 'ci')).sort(), [...CI_FILES].sort());
    for (const values of [undefined, ...CI_FILES]) {
      const r = helm(['lint', '--strict', CHART, ...(values ? ['--values', ciValues(values)] : [])]);
      assert.equal(r.code, 0, `helm lint --strict ${values ?? '(defaults)'}:\n${r.stdout}${r.stderr}`);
      assert.match(r.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
      assert.doesNotMatch(r.stdout, /\[(WARNING|ERROR)\]/);
    }
  });

  const rejects: [string, string[], RegExp][] = [
    ['a misspelled top-level key', ['--set', 'replicaCont=3'], /at '': additional properties 'replicaCont' not allowed/],
    ['a misspelled nested key', ['--set', 'securityContext.readOnlyRootFileSystem=true'], /at '\/securityContext': additional properties 'readOnlyRootFileSystem' not allowed/],
    ['a misspelled key in a list item', ['--set', 'topologySpreadConstraints[0].maxskew=1'], /additional properties 'maxskew' not allowed/],
    ['a string where an integer belongs', ['--set-string', 'replicaCount=three'], /at '\/replicaCount': got string, want integer/],
    ['a number where a duration string belongs', ['--set', 'server.drainTimeout=10'], /at '\/server\/drainTimeout': got number, want string/],
    ['a duration without a unit', ['--set', 'server.drainTimeout=10x'], /at '\/server\/drainTimeout': '10x' does not match pattern/],
    ['an unknown config source', ['--set', 'config.source=crd'], /at '\/config\/source': value must be one of 'kubernetes', 'file'/],
    ['a resource of another API group in the file source', ['--set', 'config.source=file', '--set', 'config.file.manifests[0].apiVersion=v1', '--set', 'config.file.manifests[0].kind=ConfigMap', '--set', 'config.file.manifests[0].metadata.name=x', '--set', 'config.file.manifests[0].spec.a=b'], /config\/file\/manifests\/0\/apiVersion': value must be 'claimcheck.io\/v1alpha1'/],
    ['a file name that claimcheck would not read', ['--set', 'config.source=file', '--set-string', 'config.file.files.policy\\.txt=x'], /invalid propertyName 'policy.txt'[\s\S]*does not match pattern/],
  ];
  for (const [what, args, message] of rejects) {
    test(`${what} fails helm template with a message naming it`, () => {
      assert.match(schemaRejection(args), message);
    });
  }

  test('the chart ships charts/claimcheck/crds/ unchanged (helm show crds)', () => {
    const r = helm(['show', 'crds', CHART]);
    assert.equal(r.code, 0, r.stderr);
    // helm show crds concatenates the files without document separators
    const shipped = r.stdout.split(/^(?=apiVersion: )/m).flatMap(parseDocs).map((d) => d.metadata.name).sort();
    const files = readdirSync(join(CHART, 'crds')).filter((f) => f.endsWith('.yaml'));
    const expected = files.flatMap((f) => parseDocs(readFileSync(join(CHART, 'crds', f), 'utf8'))).map((d) => d.metadata.name).sort();
    assert.deepEqual(shipped, expected);
    assert.deepEqual(shipped, ['authpolicies.claimcheck.io', 'tokenrevocations.claimcheck.io', 'trustedissuers.claimcheck.io']);
  });

  test('the values table in docs/helm.md is generated from values.yaml and current', () => {
    const r = spawnSync(process.execPath, [join(REPO, 'scripts/gen-values-docs.mjs'), '--check'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });
});

describe('Helm chart: rendered objects', { skip }, () => {
  let defaults: K8sObject[];
  before(() => {
    defaults = template();
  });

  test('liveness, readiness and startup probes are gRPC health checks on the gRPC port', () => {
    const c = containerOf(defaults);
    for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
      assert.deepEqual(c[probe].grpc, { port: 9191 }, probe);
    }
    const moved = containerOf(template({ set: ['ports.grpc=7000'] }));
    assert.deepEqual(moved.readinessProbe.grpc, { port: 7000 });
    assert.ok(moved.args.includes('--grpc-addr=0.0.0.0:7000'));
  });

  test('pod and container run restricted: uid/gid 65532, non-root, read-only root fs, no escalation, ALL dropped, RuntimeDefault seccomp', () => {
    const pod = deploymentOf(defaults).spec.template.spec;
    const c = containerOf(defaults);
    const hook = find(defaults, 'Pod')[0]!.spec;
    for (const sc of [pod.securityContext, hook.securityContext]) {
      assert.equal(sc.runAsNonRoot, true);
      assert.equal(sc.runAsUser, 65532);
      assert.equal(sc.runAsGroup, 65532);
      assert.deepEqual(sc.seccompProfile, { type: 'RuntimeDefault' });
    }
    for (const sc of [c.securityContext, hook.containers[0].securityContext]) {
      assert.equal(sc.runAsNonRoot, true);
      assert.equal(sc.runAsUser, 65532);
      assert.equal(sc.readOnlyRootFilesystem, true);
      assert.equal(sc.allowPrivilegeEscalation, false);
      assert.equal(sc.privileged, false);
      assert.deepEqual(sc.capabilities, { drop: ['ALL'] });
      assert.deepEqual(sc.seccompProfile, { type: 'RuntimeDefault' });
    }
    // the only writable path is a size-limited emptyDir
    assert.deepEqual(c.volumeMounts.map((m: any) => m.mountPath), ['/tmp']);
    assert.equal(pod.volumes.find((v: any) => v.name === 'tmp').emptyDir.sizeLimit, '64Mi');
    assert.ok(c.resources.requests.cpu && c.resources.limits.memory);
  });

  test('the Service and the container name their ports grpc and http-metrics, with appProtocol grpc for Istio', () => {
    const svc = find(defaults, 'Service')[0]!;
    assert.deepEqual(
      svc.spec.ports.map((p: any) => [p.name, p.port, p.targetPort, p.appProtocol]),
      [['grpc', 9191, 'grpc', 'grpc'], ['http-metrics', 9090, 'http-metrics', 'http']],
    );
    assert.deepEqual(containerOf(defaults).ports.map((p: any) => [p.name, p.containerPort]), [['grpc', 9191], ['http-metrics', 9090]]);
    assert.deepEqual(svc.spec.selector, deploymentOf(defaults).spec.selector.matchLabels);
  });

  test('the pods use the chart ServiceAccount and get POD_NAMESPACE and POD_NAME from the downward API', () => {
    const pod = deploymentOf(defaults).spec.template.spec;
    const sa = find(defaults, 'ServiceAccount')[0]!;
    assert.equal(pod.serviceAccountName, sa.metadata.name);
    assert.equal(pod.automountServiceAccountToken, true);
    const env = Object.fromEntries(containerOf(defaults).env.map((e: any) => [e.name, e.valueFrom?.fieldRef?.fieldPath]));
    assert.equal(env.POD_NAMESPACE, 'metadata.namespace');
    assert.equal(env.POD_NAME, 'metadata.name');
    const nodeOptions = (docs: any[]) => containerOf(docs).env.find((e: any) => e.name === 'NODE_OPTIONS')?.value;
    assert.equal(nodeOptions(defaults), '--max-old-space-size=160 --max-semi-space-size=8', 'V8 heap bounded below the default 256Mi limit');
    assert.equal(nodeOptions(template({ set: ['server.maxHeapMiB=384'] })), '--max-old-space-size=384 --max-semi-space-size=8');
    assert.equal(nodeOptions(template({ set: ['server.maxHeapMiB=null'] })), '--max-semi-space-size=8');
    assert.equal(nodeOptions(template({ set: ['server.maxHeapMiB=null', 'server.maxSemiSpaceMiB=null'] })), undefined);
    const existing = template({ set: ['serviceAccount.create=false', 'serviceAccount.name=shared'] });
    assert.equal(deploymentOf(existing).spec.template.spec.serviceAccountName, 'shared');
    assert.equal(existing.filter((d) => d.kind === 'ServiceAccount').length, 0);
    for (const b of existing.filter((d) => d.kind.endsWith('Binding'))) assert.equal(b.subjects[0].name, 'shared');
  });

  test('the rendered serve flags are accepted by the real claimcheck CLI parser', () => {
    for (const docs of [defaults, ...CI_FILES.map((f) => template({ values: [ciValues(f)] }))]) {
      const args: string[] = containerOf(docs).args;
      assert.equal(args[0], 'serve');
      assert.doesNotThrow(() => parseServe(args.slice(1)), `claimcheck serve ${args.slice(1).join(' ')}`);
    }
    const ha = parseServe(containerOf(template({ values: [ciValues('ha-values.yaml')] })).args.slice(1));
    assert.deepEqual(ha.kubernetes.watchNamespaces, ['claimcheck-system', 'payments', 'orders']);
    assert.equal(ha.configSource, 'kubernetes');
    // auto by default: the CPUs the container may use (cli/cpu-count.ts), not a fixed number
    assert.ok(containerOf(defaults).args.includes('--workers=auto'));
    assert.notEqual(ha.workersFrom, 'flag');
    assert.equal(parseServe(containerOf(template({ set: ['server.workers=3'] })).args.slice(1)).workers, 3);
  });

  test('topology spread constraints select the chart pods unless a selector is given', () => {
    for (const c of deploymentOf(defaults).spec.template.spec.topologySpreadConstraints) {
      assert.deepEqual(c.labelSelector.matchLabels, deploymentOf(defaults).spec.selector.matchLabels);
    }
  });

  test('new file-source manifests or new server flags change the pod template checksum; the same values do not', () => {
    const checksums = (set: string[], values = ciValues('file-source-values.yaml')) => deploymentOf(template({ values: [values], set })).spec.template.metadata.annotations;
    const base = checksums([]);
    assert.match(base['checksum/config'], /^[0-9a-f]{64}$/);
    assert.deepEqual(checksums([]), base);
    const changed = YAML.parse(readFileSync(ciValues('file-source-values.yaml'), 'utf8'));
    changed.config.file.manifests[1].spec.rules[1].require.scopes.allOf = ['api:admin'];
    assert.notEqual(checksums([], valuesFile(changed))['checksum/config'], base['checksum/config']);
    assert.notEqual(checksums(['config.file.files.extra\\.yaml=x'])['checksum/config'], base['checksum/config']);
    assert.notEqual(checksums(['server.logLevel=debug'])['checksum/server'], base['checksum/server']);
    assert.equal(checksums(['server.logLevel=debug'])['checksum/config'], base['checksum/config']);
  });

  test('the kubernetes source gets RBAC no wider than deploy/rbac/ in every values file', () => {
    const allowed = rbacTriples(parseDocs(readdirSync(join(REPO, 'deploy/rbac')).map((f) => readFileSync(join(REPO, 'deploy/rbac', f), 'utf8')).join('\n---\n')));
    for (const docs of [defaults, template({ values: [ciValues('ha-values.yaml')] }), template({ set: ['rbac.secretNamespaces={payments}'] })]) {
      const rules = rulesOf(docs);
      assert.ok(rules.length > 0);
      for (const t of rbacTriples(docs)) assert.ok(allowed.has(t), `chart grants ${t}, which deploy/rbac/ does not`);
      // Secrets are never readable cluster-wide, Leases only in the release namespace.
      for (const b of docs.filter((d) => d.kind === 'ClusterRoleBinding')) {
        const role = docs.find((d) => d.kind === 'ClusterRole' && d.metadata.name === b.roleRef.name)!;
        assert.ok(!role.rules.some((r: any) => r.resources.includes('secrets')), `${b.metadata.name} binds Secrets cluster-wide`);
      }
      for (const role of docs.filter((d) => d.kind === 'ClusterRole')) {
        assert.ok(!role.rules.some((r: any) => r.resources.includes('leases')), `${role.metadata.name} grants Leases cluster-wide`);
      }
      const leaseRole = docs.find((d) => d.kind === 'Role' && d.rules.some((r: any) => r.resources.includes('leases')))!;
      assert.equal(leaseRole.metadata.namespace, 'claimcheck-system');
    }
    // the rules the chart renders are the ones deploy/rbac/ documents, not a subset that breaks the server
    assert.deepEqual([...rbacTriples(defaults)].sort(), [...allowed].sort());
  });

  test('watchNamespaces binds the ClusterRole in each listed namespace and nowhere cluster-wide', () => {
    const docs = template({ values: [ciValues('ha-values.yaml')] });
    assert.equal(docs.filter((d) => d.kind === 'ClusterRoleBinding').length, 0);
    const bindings = docs.filter((d) => d.kind === 'RoleBinding' && d.roleRef.kind === 'ClusterRole' && d.roleRef.name === 'claimcheck');
    assert.deepEqual(bindings.map((b) => b.metadata.namespace), ['claimcheck-system', 'payments', 'orders']);
  });

  test('the file source renders no RBAC, no API token, and the manifests as a mounted ConfigMap', () => {
    const docs = template({ values: [ciValues('file-source-values.yaml')] });
    assert.deepEqual(docs.filter((d) => /Role/.test(d.kind)), []);
    const pod = deploymentOf(docs).spec.template.spec;
    assert.equal(pod.automountServiceAccountToken, false);
    const c = containerOf(docs);
    assert.ok(c.args.includes('--config-source=file') && c.args.includes('--config-dir=/etc/claimcheck/config'));
    const cm = find(docs, 'ConfigMap')[0]!;
    assert.equal(pod.volumes.find((v: any) => v.name === 'config').configMap.name, cm.metadata.name);
    assert.ok(c.volumeMounts.some((m: any) => m.mountPath === '/etc/claimcheck/config' && m.readOnly));
  });

  test('HA values render an HPA, a PDB keeping two pods, ServiceMonitor, PrometheusRule, dashboard and NetworkPolicy', () => {
    const docs = template({ values: [ciValues('ha-values.yaml')] });
    const hpa = find(docs, 'HorizontalPodAutoscaler')[0]!;
    assert.equal(hpa.apiVersion, 'autoscaling/v2');
    assert.deepEqual([hpa.spec.minReplicas, hpa.spec.maxReplicas], [3, 12]);
    assert.equal(deploymentOf(docs).spec.replicas, undefined, 'the HPA owns the replica count');
    assert.equal(find(docs, 'PodDisruptionBudget')[0]!.spec.minAvailable, 2);
    assert.equal(find(docs, 'ServiceMonitor')[0]!.spec.endpoints[0].port, 'http-metrics');
    const alerts = find(docs, 'PrometheusRule')[0]!.spec.groups[0].rules.map((r: any) => r.alert);
    for (const a of ['ClaimcheckNoReadyReplicas', 'ClaimcheckDenyRateHigh', 'ClaimcheckIssuerKeysStale', 'ClaimcheckConfigErrors']) assert.ok(alerts.includes(a), a);
    assert.ok(JSON.parse(find(docs, 'ConfigMap', 'claimcheck-dashboard')[0]!.data['claimcheck.json']).panels.length > 10);
    const np = find(docs, 'NetworkPolicy')[0]!;
    assert.deepEqual(np.spec.policyTypes, ['Ingress', 'Egress']);
    assert.deepEqual(np.spec.egress[0].ports.map((p: any) => p.port), [53, 53]);
  });

  test('minimal values render no PDB and no test hook, and pin the image by digest', () => {
    const docs = template({ values: [ciValues('minimal-values.yaml')] });
    assert.equal(docs.filter((d) => d.kind === 'PodDisruptionBudget' || d.kind === 'Pod').length, 0);
    assert.equal(containerOf(docs).image, `registry.example.com/claimcheck@sha256:${'0'.repeat(64)}`);
    assert.equal(containerOf(defaults).image, 'claimcheck:0.1.0');
  });

  test('the helm test hook runs `claimcheck healthcheck` against the Service from the claimcheck image', () => {
    const hook = find(defaults, 'Pod')[0]!;
    assert.equal(hook.metadata.annotations['helm.sh/hook'], 'test');
    const c = hook.spec.containers[0];
    assert.equal(c.image, containerOf(defaults).image);
    assert.deepEqual(c.args.slice(0, 2), ['healthcheck', '--addr=claimcheck.claimcheck-system.svc:9191']);
  });
});

describe('Helm chart: the file source serves what it renders', { skip }, () => {
  let dir: string;
  let server: ClaimcheckProcess | undefined;
  after(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the rendered ConfigMap validates and answers an allowed and a denied Check', async () => {
    const docs = template({ values: [ciValues('file-source-values.yaml')], setFile: [`config.file.files.revocations\\.yaml=${join(REPO, 'examples/revocations.yaml')}`] });
    const cm = find(docs, 'ConfigMap')[0]!;
    assert.deepEqual(Object.keys(cm.data).sort(), ['manifests.yaml', 'revocations.yaml']);
    dir = mkdtempSync(join(tmpdir(), 'claimcheck-cm-'));
    for (const [name, text] of Object.entries(cm.data as Record<string, string>)) writeFileSync(join(dir, name), text);
    assert.doesNotMatch(cm.data['manifests.yaml'], /"true":/, 'YAML 1.1 turned a key into true');

    const v = spawnSync(process.execPath, [BIN, 'validate', '--namespace', 'claimcheck-system', dir], { encoding: 'utf8' });
    assert.equal(v.status, 0, v.stdout + v.stderr);
    assert.match(v.stdout, /3 document\(s\) in \d+ file\(s\): 3 valid, 0 error\(s\)/);

    server = await startClaimcheck({ configDir: dir, env: { POD_NAMESPACE: 'claimcheck-system' } });
    await assertAllowsAndDenies(server.grpcAddress, { host: 'demo.example.com', path: '/api/orders', scope: 'api:read' });
  });

  test('an unquoted EC "y" key in values reaches claimcheck as "true", and the issuer fails closed', () => {
    // Why file-source-values.yaml quotes "y" and docs/helm.md warns about it.
    const file = join(mkdtempSync(join(tmpdir(), 'claimcheck-values-')), 'v.yaml');
    writeFileSync(file, readFileSync(ciValues('file-source-values.yaml'), 'utf8').replace(/"y":/, 'y:'));
    const cm = find(template({ values: [file] }), 'ConfigMap')[0]!;
    assert.match(cm.data['manifests.yaml'], /"true": -vMEg0/);
    const d = mkdtempSync(join(tmpdir(), 'claimcheck-cm-'));
    writeFileSync(join(d, 'manifests.yaml'), cm.data['manifests.yaml']);
    const token = demoToken('api:read');
    const c = spawnSync(process.execPath, [BIN, 'check', '--config-dir', d, '--host', 'demo.example.com', '--path', '/api/x', '--token', token], { encoding: 'utf8' });
    rmSync(d, { recursive: true, force: true });
    assert.equal(c.status, 1, c.stdout);
    assert.match(c.stdout, /decision: DENY 503 \(keys_unavailable\)/);
  });
});
