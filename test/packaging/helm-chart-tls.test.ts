/**
 * The chart's TLS (tls.*), rendered with the real helm: the flags the CLI parser accepts, the
 * Secret mounted without subPath, probes that leave gRPC for HTTP(S), the cert-manager
 * Certificate, the ServiceMonitor's scheme, and the schema's refusals.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseServe } from '../../src/cli.js';
import { helmPath, helmSkipReason, schemaRejection, template, type K8sObject } from './lib/tools.js';
import { skipFor } from '../helpers/skip.js';

const skip = skipFor('Helm chart TLS suite', helmSkipReason());

const one = (docs: K8sObject[], kind: string) => docs.find((x) => x.kind === kind);
const pod = (docs: K8sObject[]) => one(docs, 'Deployment')!.spec.template.spec;
const container = (docs: K8sObject[]) => pod(docs).containers.find((c: any) => c.name === 'claimcheck');
const TLS_DIR = '/etc/claimcheck/tls';
const files = (clientCa: boolean) => ({ cert: `${TLS_DIR}/tls.crt`, key: `${TLS_DIR}/tls.key`, ...(clientCa ? { clientCa: `${TLS_DIR}/ca.crt` } : {}) });

describe('Helm chart: tls', { skip }, () => {
  before(() => {
    helmPath();
  });

  test('off by default: no TLS flag, no tls volume, gRPC probes, no Certificate', () => {
    const docs = template({ set: ['tls.certManager.enabled=true'] });
    assert.ok(!container(docs).args.some((a: string) => a.includes('-tls-')));
    assert.ok(!pod(docs).volumes.some((v: any) => v.name === 'tls'));
    assert.deepEqual(container(docs).readinessProbe.grpc, { port: 9191 });
    assert.equal(one(docs, 'Certificate'), undefined);
  });

  test('enabled: mTLS flags on the gRPC and authorization listeners, the Secret mounted read-only without subPath, HTTP probes', () => {
    const docs = template({ set: ['tls.enabled=true', 'httpAuthz.enabled=true'] });
    const opts = parseServe(container(docs).args.slice(1));
    assert.deepEqual(opts.tls, { grpc: files(true), authzHttp: files(true) });
    assert.deepEqual(pod(docs).volumes.find((v: any) => v.name === 'tls'), { name: 'tls', secret: { secretName: 'claimcheck-tls', defaultMode: 0o440 } });
    assert.deepEqual(container(docs).volumeMounts.find((m: any) => m.name === 'tls'), { name: 'tls', mountPath: TLS_DIR, readOnly: true });
    for (const [probe, path] of [['startupProbe', '/readyz'], ['livenessProbe', '/healthz'], ['readinessProbe', '/readyz']] as const) {
      assert.deepEqual(container(docs)[probe].httpGet, { path, port: 'http-metrics', scheme: 'HTTP' }, probe);
      assert.equal(container(docs)[probe].grpc, undefined);
    }
  });

  test('clientAuth false: TLS without a client CA; tls.http: HTTPS on the metrics port, HTTPS probes, an https ServiceMonitor', () => {
    const plain = parseServe(container(template({ set: ['tls.enabled=true', 'tls.clientAuth=false'] })).args.slice(1));
    assert.deepEqual(plain.tls, { grpc: files(false) });
    const docs = template({ set: ['tls.enabled=true', 'tls.http=true', 'tls.secretName=mine', 'metrics.serviceMonitor.enabled=true'] });
    assert.deepEqual(parseServe(container(docs).args.slice(1)).tls, { grpc: files(true), http: files(false) });
    assert.equal(container(docs).readinessProbe.httpGet.scheme, 'HTTPS');
    const endpoint = one(docs, 'ServiceMonitor')!.spec.endpoints[0];
    assert.equal(endpoint.scheme, 'https');
    assert.deepEqual(endpoint.tlsConfig.ca, { secret: { name: 'mine', key: 'ca.crt' } });
  });

  test('certManager: a Certificate for the Service names into the Secret the pod mounts; without an issuer it fails', () => {
    const docs = template({ set: ['tls.enabled=true', 'tls.certManager.enabled=true', 'tls.certManager.issuerRef.name=mesh-ca', 'tls.certManager.issuerRef.kind=ClusterIssuer', 'tls.certManager.extraDnsNames[0]=authz.example.com'] });
    const cert = one(docs, 'Certificate')!;
    assert.equal(cert.apiVersion, 'cert-manager.io/v1');
    assert.equal(cert.spec.secretName, pod(docs).volumes.find((v: any) => v.name === 'tls').secret.secretName);
    assert.deepEqual(cert.spec.issuerRef, { name: 'mesh-ca', kind: 'ClusterIssuer', group: 'cert-manager.io' });
    assert.deepEqual(cert.spec.dnsNames, ['claimcheck', 'claimcheck.claimcheck-system', 'claimcheck.claimcheck-system.svc', 'claimcheck.claimcheck-system.svc.cluster.local', 'authz.example.com']);
    assert.throws(() => template({ set: ['tls.enabled=true', 'tls.certManager.enabled=true'] }), /needs tls\.certManager\.issuerRef\.name/);
  });

  test('the helm test pod checks health over mTLS with the mounted Secret', () => {
    const docs = template({ set: ['tls.enabled=true'] });
    const testPod = docs.find((d) => d.kind === 'Pod' && d.metadata.annotations?.['helm.sh/hook'] === 'test')!;
    const c = testPod.spec.containers[0];
    for (const flag of ['--tls-ca=/etc/claimcheck/tls/ca.crt', '--tls-cert=/etc/claimcheck/tls/tls.crt', '--tls-key=/etc/claimcheck/tls/tls.key']) assert.ok(c.args.includes(flag), flag);
    assert.equal(testPod.spec.volumes[0].secret.secretName, 'claimcheck-tls');
    const cert = one(template({ set: ['tls.enabled=true', 'tls.certManager.enabled=true', 'tls.certManager.issuerRef.name=ca'] }), 'Certificate')!;
    assert.ok(cert.spec.usages.includes('client auth'), 'the same certificate authenticates the test pod');
  });

  const rejects: [string, string[], RegExp][] = [
    ['a misspelled tls key', ['--set', 'tls.enable=true'], /tls[\s\S]*additional properties 'enable' not allowed/],
    ['an issuer kind that is not Issuer or ClusterIssuer', ['--set', 'tls.certManager.issuerRef.kind=Vault'], /issuerRef\/kind/],
    ['a Secret name that is not a DNS name', ['--set', 'tls.secretName=Not_A_Name'], /tls\/secretName/],
  ];
  for (const [what, args, message] of rejects) {
    test(`${what} fails helm template with a message naming it`, () => {
      assert.match(schemaRejection(args), message);
    });
  }
});
