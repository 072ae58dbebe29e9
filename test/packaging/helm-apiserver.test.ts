/**
 * The chart against a real etcd + kube-apiserver (test/k8s/harness.ts): a real
 * `helm install` / `helm upgrade`, claimcheck running with the ServiceAccount and
 * RBAC the chart created, and every values file applied with
 * `kubectl apply --dry-run=server` (strict field validation, admission, CRD schemas).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, type ClaimcheckProcess } from '../helpers/claimcheck-process.js';
import { createEnvoyClient } from '../helpers/envoy-client.js';
import { k8sSkipReason, startKubeApiserver, type KubeApiserver } from '../k8s/harness.js';
import { bearer, condition, createNamespace, get, mustCreate, policySpec, startK8sClaimcheck, testIssuer } from '../k8s/cluster-fixture.js';
import { CHART, THIRD_PARTY_CRDS, ciValues, helm, helmPath, helmSkipReason, parseDocs, templateRaw, thirdPartySkipReason } from './lib/tools.js';
import { applyThirdPartyCrds, ensureNamespace } from './lib/cluster.js';
import { skipFor } from '../helpers/skip.js';

const skip = skipFor('Helm chart against kube-apiserver', helmSkipReason() ?? k8sSkipReason());
const noMonitoringCrds = thirdPartySkipReason();

describe('Helm chart against a real kube-apiserver', { skip }, () => {
  let api: KubeApiserver;
  const procs: ClaimcheckProcess[] = [];
  const kube = (args: string[]) => ['--kubeconfig', api.kubeconfigPath, ...args];

  before(async () => {
    helmPath();
    api = await startKubeApiserver();
  });
  after(async () => {
    for (const p of procs) await p.stop();
    await api?.stop();
  });

  test('helm install creates the CRDs and every object; helm upgrade applies new values', async () => {
    const ns = await createNamespace(api, 'helm-install');
    const install = helm(['install', 'cc-install', CHART, ...kube(['--namespace', ns])]);
    assert.equal(install.code, 0, install.stderr);
    assert.match(install.stdout, /STATUS: deployed/);
    // NOTES.txt: the address the mesh config needs
    assert.match(install.stdout, new RegExp(`service: cc-install-claimcheck\\.${ns}\\.svc\\.cluster\\.local\\n\\s+port: 9191`));

    const crds = await api.kubectl(['get', 'crd', '-o', 'name']);
    for (const crd of ['trustedissuers', 'authpolicies', 'tokenrevocations']) assert.match(crds.stdout, new RegExp(`${crd}\\.claimcheck\\.io`));
    const objs = await api.kubectl(['get', '-n', ns, 'deployment,service,serviceaccount,poddisruptionbudget,role,rolebinding', '-o', 'name']);
    assert.equal(objs.code, 0, objs.stderr);
    for (const o of ['deployment.apps/cc-install-claimcheck', 'service/cc-install-claimcheck', 'serviceaccount/cc-install-claimcheck', 'poddisruptionbudget.policy/cc-install-claimcheck', 'role.rbac.authorization.k8s.io/cc-install-claimcheck-leader-election']) {
      assert.ok(objs.stdout.includes(o), `${o} missing from:\n${objs.stdout}`);
    }

    const upgrade = helm(['upgrade', 'cc-install', CHART, '--reuse-values', '--set', 'server.logLevel=debug', ...kube(['--namespace', ns])]);
    assert.equal(upgrade.code, 0, upgrade.stderr);
    const dep = await api.kubectl(['get', '-n', ns, 'deployment/cc-install-claimcheck', '-o', 'json']);
    const args: string[] = JSON.parse(dep.stdout).spec.template.spec.containers[0].args;
    assert.ok(args.includes('--log-level=debug'), args.join(' '));

    const typo = helm(['upgrade', 'cc-install', CHART, '--set', 'replicaCont=3', ...kube(['--namespace', ns])]);
    assert.notEqual(typo.code, 0);
    assert.match(typo.stderr, /additional properties 'replicaCont' not allowed/);
  });

  test('claimcheck running as the chart ServiceAccount watches resources, writes status and allows a valid token', async () => {
    const ns = await createNamespace(api, 'helm-rbac');
    const release = 'cc-rbac';
    const install = helm(['install', release, CHART, '--skip-crds', ...kube(['--namespace', ns])]);
    assert.equal(install.code, 0, install.stderr);
    // The pod cannot run here (no kubelet): run the process with a token of the
    // ServiceAccount the chart created, bound only by the chart's RBAC.
    const tr = await api.request('POST', `/api/v1/namespaces/${ns}/serviceaccounts/${release}-claimcheck/token`, {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { expirationSeconds: 3600 },
    });
    assert.equal(tr.status, 201, JSON.stringify(tr.body));
    const kubeconfig = api.writeKubeconfig(`${release}-${ns}`, tr.body.status.token);

    const idp = testIssuer();
    await mustCreate(api, 'trustedissuers', ns, 'idp', idp.spec);
    await mustCreate(api, 'authpolicies', ns, 'api', policySpec(`${ns}.example`, ['idp']));
    const server = await startK8sClaimcheck({ kubeconfig, namespace: ns });
    procs.push(server);

    const client = createEnvoyClient(server.grpcAddress);
    try {
      const allowed = await eventually(async () => {
        const r = await client.check({ host: `${ns}.example`, path: '/api/x', headers: bearer(await idp.token()) });
        return r.code === 0 ? r : undefined;
      }, 15_000, 100);
      assert.equal(allowed!.code, 0);
      const denied = await client.check({ host: `${ns}.example`, path: '/api/x' });
      assert.equal(denied.httpStatus, 401);
    } finally {
      client.close();
    }
    // status needs the Lease (Role) and status patch (ClusterRole) the chart granted
    const accepted = await eventually(async () => condition(await get(api, 'authpolicies', ns, 'api'), 'Accepted'), 15_000, 200);
    assert.equal(accepted!.status, 'True');
    assert.ok(!server.rawLog().includes('forbidden'), 'claimcheck hit an RBAC denial:\n' + server.rawLog().split('\n').filter((l) => l.includes('forbidden')).slice(0, 3).join('\n'));
  });

  const cases: [string, string | undefined][] = [
    ['the default values', undefined],
    ['ci/ha-values.yaml (HPA, PDB, ServiceMonitor, PrometheusRule, dashboard, NetworkPolicy, watched namespaces)', 'ha-values.yaml'],
    ['ci/file-source-values.yaml', 'file-source-values.yaml'],
    ['ci/minimal-values.yaml', 'minimal-values.yaml'],
  ];
  for (const [what, file] of cases) {
    test(`helm template of ${what} is accepted by kubectl apply --dry-run=server with zero errors`, async () => {
      const ns = await createNamespace(api, 'helm-dry');
      let rendered = templateRaw({ namespace: ns, values: file ? [ciValues(file)] : [] });
      let docs = parseDocs(rendered);
      if (docs.some((d) => d.apiVersion.startsWith('monitoring.coreos.com/'))) {
        if (noMonitoringCrds) {
          if (process.env.CLAIMCHECK_NO_SKIP === '1') assert.fail(`ServiceMonitor/PrometheusRule CRDs: ${noMonitoringCrds}`);
          console.log(`# SKIP ServiceMonitor/PrometheusRule dry-run: ${noMonitoringCrds}`);
          docs = docs.filter((d) => !d.apiVersion.startsWith('monitoring.coreos.com/'));
          rendered = docs.map((d) => JSON.stringify(d)).join('\n---\n');
        } else {
          await applyThirdPartyCrds(api, [THIRD_PARTY_CRDS.serviceMonitor, THIRD_PARTY_CRDS.prometheusRule]);
        }
      }
      for (const other of new Set(docs.map((d) => d.metadata.namespace).filter((n): n is string => !!n && n !== ns))) await ensureNamespace(api, other);
      // A dry run creates nothing, but Pod admission looks the ServiceAccount up (the
      // helm test hook Pod): create it for real first, as helm install would have.
      const sas = docs.filter((d) => d.kind === 'ServiceAccount');
      if (sas.length) {
        const sa = await api.kubectl(['apply', '-f', '-'], { input: sas.map((d) => JSON.stringify(d)).join('\n---\n') });
        assert.equal(sa.code, 0, sa.stderr);
      }
      const r = await api.kubectl(['apply', '--dry-run=server', '--validate=strict', '-f', '-'], { input: rendered });
      assert.equal(r.code, 0, `${r.stderr}\n${r.stdout}`);
      assert.equal(r.stderr.trim(), '', 'warnings from the API server');
      const lines = r.stdout.trim().split('\n');
      assert.equal(lines.length, docs.length, r.stdout);
      for (const l of lines) assert.match(l, /(created|configured|unchanged) \(server dry run\)$/);
    });
  }
});
