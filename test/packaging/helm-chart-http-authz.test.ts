/**
 * The chart's HTTP authorization listener (httpAuthz.*, networkPolicy.httpAuthzFrom),
 * rendered with the real helm: the flag, the named ports, and a NetworkPolicy that admits
 * nobody to that port unless peers are listed.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseServe } from '../../src/cli.js';
import { ciValues, helmPath, helmSkipReason, schemaRejection, template, type K8sObject } from './lib/tools.js';
import { skipFor } from '../helpers/skip.js';

const skip = skipFor('Helm chart HTTP authorization suite', helmSkipReason());

const one = (docs: K8sObject[], kind: string) => {
  const d = docs.find((x) => x.kind === kind);
  assert.ok(d, `no ${kind} rendered`);
  return d;
};
const container = (docs: K8sObject[]) => one(docs, 'Deployment').spec.template.spec.containers.find((c: any) => c.name === 'claimcheck');
const servePorts = (docs: K8sObject[]) => one(docs, 'Service').spec.ports.map((p: any) => [p.name, p.port, p.targetPort, p.appProtocol]);
const rulesFor = (np: K8sObject, port: string) => np.spec.ingress.filter((r: any) => r.ports.some((p: any) => p.port === port));
const INGRESS_NGINX = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } };

describe('Helm chart: httpAuthz', { skip }, () => {
  before(() => {
    helmPath();
  });

  test('off by default: no flag, no container port, no Service port', () => {
    const docs = template();
    assert.ok(!container(docs).args.some((a: string) => a.startsWith('--authz-http-addr')));
    assert.ok(!container(docs).ports.some((p: any) => p.name === 'http-authz'));
    assert.ok(!servePorts(docs).some(([name]: [string]) => name === 'http-authz'));
    assert.equal(parseServe(container(docs).args.slice(1)).authzHttpAddr, undefined);
  });

  test('enabled: --authz-http-addr on the port, which the CLI parser accepts, a container port and a Service port named http-authz', () => {
    for (const [set, port] of [[['httpAuthz.enabled=true'], 9292], [['httpAuthz.enabled=true', 'httpAuthz.port=9393'], 9393]] as const) {
      const docs = template({ set: [...set] });
      assert.equal(parseServe(container(docs).args.slice(1)).authzHttpAddr, `0.0.0.0:${port}`);
      assert.deepEqual(container(docs).ports.find((p: any) => p.name === 'http-authz'), { name: 'http-authz', containerPort: port, protocol: 'TCP' });
      assert.deepEqual(servePorts(docs).find(([name]: [string]) => name === 'http-authz'), ['http-authz', port, 'http-authz', 'http']);
    }
  });

  test('the NetworkPolicy admits nobody to http-authz by default, exactly the listed peers otherwise, and nothing while the listener is off', () => {
    const closed = one(template({ set: ['httpAuthz.enabled=true', 'networkPolicy.enabled=true'] }), 'NetworkPolicy');
    assert.deepEqual(rulesFor(closed, 'http-authz'), []);
    for (const r of closed.spec.ingress) assert.ok(r.from?.length, `a rule without from admits everyone: ${JSON.stringify(r)}`);
    const ha = one(template({ values: [ciValues('ha-values.yaml')] }), 'NetworkPolicy');
    assert.deepEqual(rulesFor(ha, 'http-authz'), [{ ports: [{ port: 'http-authz', protocol: 'TCP' }], from: [INGRESS_NGINX] }]);
    assert.ok(container(template({ values: [ciValues('ha-values.yaml')] })).args.includes('--authz-http-addr=0.0.0.0:9292'));
    const off = one(template({ set: ['networkPolicy.enabled=true', 'networkPolicy.httpAuthzFrom[0].namespaceSelector.matchLabels.a=b'] }), 'NetworkPolicy');
    assert.deepEqual(rulesFor(off, 'http-authz'), []);
  });

  const rejects: [string, string[], RegExp][] = [
    ['a misspelled httpAuthz key', ['--set', 'httpAuthz.enable=true'], /httpAuthz[\s\S]*additional properties 'enable' not allowed/],
    ['port 0', ['--set', 'httpAuthz.port=0'], /httpAuthz\/port/],
    ['a peer with an unknown key', ['--set', 'networkPolicy.httpAuthzFrom[0].namespaceSelecter.x=y'], /httpAuthzFrom\/0[\s\S]*additional properties 'namespaceSelecter' not allowed/],
  ];
  for (const [what, args, message] of rejects) {
    test(`${what} fails helm template with a message naming it`, () => {
      assert.match(schemaRejection(args), message);
    });
  }
});
