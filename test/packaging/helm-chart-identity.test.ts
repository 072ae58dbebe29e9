/**
 * identityTokens.* with the real helm: the signing-key Secret the chart generates (a
 * P-256 key node and jose can sign with) or the user's, mounted where
 * --identity-key-dir points; the issuer URL that reaches the Service's HTTP port; the
 * NetworkPolicy rule for the JWKS. Against a real kube-apiserver: helm upgrade,
 * uninstall and reinstall keep the generated key (what `lookup` is for).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, jwtVerify } from 'jose';
import { REPO, startClaimcheck, type ClaimcheckProcess } from '../helpers/claimcheck-process.js';
import { parseServe } from '../../src/cli.js';
import { k8sSkipReason, startKubeApiserver, type KubeApiserver } from '../k8s/harness.js';
import { createNamespace } from '../k8s/cluster-fixture.js';
import { CHART, helm, helmPath, helmSkipReason, parseDocs, schemaRejection, template, templateRaw, valuesFile, type K8sObject } from './lib/tools.js';
import { skipFor } from '../helpers/skip.js';

const skip = skipFor('Helm chart identity tokens suite', helmSkipReason());
const skipApi = skipFor('Helm chart identity tokens against kube-apiserver', helmSkipReason() ?? k8sSkipReason());

const MOUNT = '/etc/claimcheck/identity-keys';
const ON = 'identityTokens.enabled=true';

const one = (docs: K8sObject[], kind: string) => {
  const found = docs.filter((d) => d.kind === kind);
  assert.equal(found.length, 1, `${found.length} ${kind} rendered`);
  return found[0]!;
};
const pod = (docs: K8sObject[]) => one(docs, 'Deployment').spec.template.spec;
const container = (docs: K8sObject[]) => pod(docs).containers.find((c: any) => c.name === 'claimcheck');
const identityArgs = (docs: K8sObject[]): string[] => container(docs).args.filter((a: string) => a.startsWith('--identity-'));
const keyVolume = (docs: K8sObject[]) => pod(docs).volumes.find((v: any) => v.name === 'identity-keys');
const keyMount = (docs: K8sObject[]) => container(docs).volumeMounts.find((m: any) => m.name === 'identity-keys');
const secrets = (docs: K8sObject[]) => docs.filter((d) => d.kind === 'Secret');
const metricsRules = (np: K8sObject) => np.spec.ingress.filter((r: any) => r.ports.some((p: any) => p.port === 'http-metrics'));

/** Loads a PEM as node does and proves it signs an ES256 JWT that its public key verifies. */
async function assertP256SigningKey(pem: string): Promise<void> {
  const key = createPrivateKey(pem);
  assert.equal(key.type, 'private');
  assert.equal(key.asymmetricKeyType, 'ec');
  assert.equal(key.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  const jwt = await new SignJWT({ sub: 'svc' }).setProtectedHeader({ alg: 'ES256', kid: 'identity-1' }).sign(key);
  assert.equal((await jwtVerify(jwt, createPublicKey(key))).payload.sub, 'svc');
}

describe('Helm chart: identityTokens', { skip }, () => {
  before(() => {
    helmPath();
  });

  test('off by default: no Secret, no volume or mount, no --identity-* flag, no JWKS NetworkPolicy rule', () => {
    const docs = template({ set: ['networkPolicy.enabled=true'] });
    assert.deepEqual(secrets(docs), []);
    assert.equal(keyVolume(docs), undefined);
    assert.equal(keyMount(docs), undefined);
    assert.deepEqual(identityArgs(docs), []);
    assert.equal(metricsRules(one(docs, 'NetworkPolicy')).length, 1);
  });

  test('enabled: a generated <fullname>-identity-keys Secret with one P-256 key, identity-1.pem, kept on uninstall', async () => {
    const secret = one(template({ set: [ON] }), 'Secret');
    assert.equal(secret.metadata.name, 'claimcheck-identity-keys');
    assert.equal(secret.metadata.namespace, 'claimcheck-system');
    assert.equal(secret.metadata.annotations['helm.sh/resource-policy'], 'keep');
    assert.equal(secret.type, 'Opaque');
    assert.deepEqual(Object.keys(secret.data), ['identity-1.pem']);
    const pem = Buffer.from(secret.data['identity-1.pem'], 'base64').toString('utf8');
    assert.match(pem, /^-----BEGIN EC PRIVATE KEY-----\n[\s\S]+\n-----END EC PRIVATE KEY-----\n?$/);
    await assertP256SigningKey(pem);
  });

  test('enabled: the Secret is mounted read-only (0440, no subPath, so updates arrive) where --identity-key-dir points', () => {
    const docs = template({ set: [ON] });
    assert.deepEqual(keyVolume(docs), { name: 'identity-keys', secret: { secretName: 'claimcheck-identity-keys', defaultMode: 0o440 } });
    assert.deepEqual(keyMount(docs), { name: 'identity-keys', mountPath: MOUNT, readOnly: true });
    assert.ok(identityArgs(docs).includes(`--identity-key-dir=${MOUNT}`));
    // the pod's fsGroup is what makes the 0440 files readable by uid 65532
    assert.equal(pod(docs).securityContext.fsGroup, 65532);
  });

  test('the default issuer is the Service and port serving --http-addr, in the release namespace', () => {
    for (const o of [
      { set: [ON], release: 'claimcheck', namespace: 'claimcheck-system', want: 'http://claimcheck.claimcheck-system.svc.cluster.local:9090' },
      { set: [ON, 'ports.metrics=9999'], release: 'auth', namespace: 'mesh', want: 'http://auth-claimcheck.mesh.svc.cluster.local:9999' },
      { set: [ON, 'fullnameOverride=signer'], release: 'x', namespace: 'ids', want: 'http://signer.ids.svc.cluster.local:9090' },
    ]) {
      const docs = template(o);
      assert.deepEqual(identityArgs(docs), [`--identity-issuer=${o.want}`, `--identity-key-dir=${MOUNT}`, '--identity-signing-key=identity-1']);
      const svc = one(docs, 'Service');
      const http = svc.spec.ports.find((p: any) => p.name === 'http-metrics');
      const url = new URL(o.want);
      assert.equal(url.hostname, `${svc.metadata.name}.${svc.metadata.namespace}.svc.cluster.local`);
      assert.equal(Number(url.port), http.port);
      const target = container(docs).ports.find((p: any) => p.name === http.targetPort);
      assert.ok(container(docs).args.includes(`--http-addr=0.0.0.0:${target.containerPort}`));
    }
  });

  test('issuer and signingKey are passed as set; an empty signingKey is the generated key, or no flag with existingSecret', () => {
    const docs = template({ set: [ON, 'identityTokens.issuer=https://ids.example.com/mesh', 'identityTokens.signingKey=identity-2'] });
    assert.deepEqual(identityArgs(docs), ['--identity-issuer=https://ids.example.com/mesh', `--identity-key-dir=${MOUNT}`, '--identity-signing-key=identity-2']);
    const signing = (set: string[]) => identityArgs(template({ set: [ON, ...set] })).filter((a) => a.startsWith('--identity-signing-key'));
    assert.deepEqual(signing(['identityTokens.signingKey=']), ['--identity-signing-key=identity-1']);
    assert.deepEqual(signing(['identityTokens.existingSecret=my-keys']), []);
  });

  test('the rendered flags are accepted by the CLI parser, and claimcheck serves the generated key from a Secret-volume layout', async () => {
    const docs = template({ set: [ON, 'identityTokens.signingKey=identity-1'] });
    const parsed = parseServe(container(docs).args.slice(1));
    assert.deepEqual(parsed.identity, { issuer: 'http://claimcheck.claimcheck-system.svc.cluster.local:9090', keyDir: MOUNT, signingKid: 'identity-1' });
    const pem = Buffer.from(one(docs, 'Secret').data['identity-1.pem'], 'base64').toString('utf8');
    // as the kubelet lays a Secret out: files are symlinks through the ..data symlink
    const dir = mkdtempSync(join(tmpdir(), 'claimcheck-identity-'));
    mkdirSync(join(dir, '..2026_01_01_00_00_00.1'));
    writeFileSync(join(dir, '..2026_01_01_00_00_00.1', 'identity-1.pem'), pem);
    symlinkSync('..2026_01_01_00_00_00.1', join(dir, '..data'));
    symlinkSync('..data/identity-1.pem', join(dir, 'identity-1.pem'));
    const args = identityArgs(docs).map((a) => (a === `--identity-key-dir=${MOUNT}` ? `--identity-key-dir=${dir}` : a));
    let server: ClaimcheckProcess | undefined;
    try {
      server = await startClaimcheck({ configDir: join(REPO, 'examples'), args: ['--workers', '1', ...args] });
      const discovery = JSON.parse((await server.http('/.well-known/openid-configuration')).body);
      assert.equal(discovery.issuer, parsed.identity!.issuer);
      const { keys } = JSON.parse((await server.http('/.well-known/jwks.json')).body);
      const pub = createPublicKey(pem).export({ format: 'jwk' });
      assert.deepEqual(keys.map((k: any) => [k.kid, k.kty, k.crv, k.x, k.y, k.d]), [['identity-1', 'EC', 'P-256', pub.x, pub.y, undefined]]);
    } finally {
      await server?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('existingSecret: no generated Secret, and the named one is mounted', () => {
    const docs = template({ set: [ON, 'identityTokens.existingSecret=my-keys', 'identityTokens.signingKey=k2'] });
    assert.deepEqual(secrets(docs), []);
    assert.equal(keyVolume(docs).secret.secretName, 'my-keys');
    assert.deepEqual(keyMount(docs), { name: 'identity-keys', mountPath: MOUNT, readOnly: true });
    assert.ok(identityArgs(docs).includes('--identity-signing-key=k2'));
  });

  test('NetworkPolicy: jwksFrom peers may reach the HTTP port when metricsFrom is narrowed; [] adds no rule', () => {
    const scrapers = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } };
    const narrowed = ['networkPolicy.enabled=true', 'networkPolicy.metricsFrom[0].namespaceSelector.matchLabels.kubernetes\\.io/metadata\\.name=monitoring'];
    const rules = metricsRules(one(template({ set: [ON, ...narrowed] }), 'NetworkPolicy'));
    assert.deepEqual(rules.map((r: any) => r.from), [[scrapers], [{ namespaceSelector: {} }]]);
    for (const r of rules) assert.deepEqual(r.ports, [{ port: 'http-metrics', protocol: 'TCP' }]);
    const none = metricsRules(one(template({ values: [valuesFile({ networkPolicy: { jwksFrom: [] } })], set: [ON, ...narrowed] }), 'NetworkPolicy'));
    assert.deepEqual(none.map((r: any) => r.from), [[scrapers]]);
  });

  test('helm lint --strict passes with identity tokens off, generated, and from an existing Secret', () => {
    for (const set of [[], [ON], [ON, 'identityTokens.existingSecret=my-keys', 'identityTokens.signingKey=k2', 'networkPolicy.enabled=true']]) {
      const r = helm(['lint', '--strict', CHART, ...set.flatMap((s) => ['--set', s])]);
      assert.equal(r.code, 0, `helm lint --strict ${set.join(' ')}:\n${r.stdout}${r.stderr}`);
      assert.match(r.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
      assert.doesNotMatch(r.stdout, /\[(WARNING|ERROR)\]/);
    }
  });

  const rejects: [string, string[], RegExp][] = [
    ['a misspelled identityTokens key', ['--set', 'identityTokens.signingkey=x'], /identityTokens[\s\S]*additional properties 'signingkey' not allowed/],
    ['an issuer without a scheme', ['--set', 'identityTokens.issuer=claimcheck:9090'], /identityTokens\/issuer/],
    ['an issuer with a query', ['--set', 'identityTokens.issuer=https://a.example/?x=1'], /identityTokens\/issuer/],
    ['a Secret name that is not a DNS name', ['--set', 'identityTokens.existingSecret=My_Keys'], /identityTokens\/existingSecret/],
    ['a JWKS peer with an unknown key', ['--set', 'networkPolicy.jwksFrom[0].podSelecter.x=y'], /jwksFrom\/0[\s\S]*additional properties 'podSelecter' not allowed/],
  ];
  for (const [what, args, message] of rejects) {
    test(`${what} fails helm template with a message naming it`, () => {
      assert.match(schemaRejection(args), message);
    });
  }
});

describe('Helm chart identity tokens against a real kube-apiserver', { skip: skipApi }, () => {
  let api: KubeApiserver;
  const kube = (ns: string) => ['--kubeconfig', api.kubeconfigPath, '--namespace', ns];
  const secretData = async (ns: string, name: string): Promise<Record<string, string> | undefined> => {
    const r = await api.request('GET', `/api/v1/namespaces/${ns}/secrets/${name}`);
    return r.status === 200 ? r.body.data : undefined;
  };
  const mustHelm = (args: string[]): string => {
    const r = helm(args);
    assert.equal(r.code, 0, `helm ${args.join(' ')}:\n${r.stderr}`);
    return r.stdout;
  };

  before(async () => {
    helmPath();
    api = await startKubeApiserver();
  });
  after(async () => {
    await api?.stop();
  });

  test('helm upgrade keeps the generated key and key files added for a rotation; uninstall keeps the Secret, reinstall reuses it', async () => {
    const ns = await createNamespace(api, 'helm-identity');
    const name = 'cc-id-claimcheck-identity-keys';
    const notes = mustHelm(['install', 'cc-id', CHART, '--skip-crds', '--set', ON, ...kube(ns)]);
    assert.match(notes, new RegExp(`Identity tokens: issuer http://cc-id-claimcheck\\.${ns}\\.svc\\.cluster\\.local:9090\\n`));
    assert.match(notes, new RegExp(`signing keys in Secret ${name}, mounted at ${MOUNT}`));
    const installed = await secretData(ns, name);
    assert.deepEqual(Object.keys(installed ?? {}), ['identity-1.pem']);
    await assertP256SigningKey(Buffer.from(installed!['identity-1.pem']!, 'base64').toString('utf8'));

    mustHelm(['upgrade', 'cc-id', CHART, '--reuse-values', '--set', 'server.logLevel=debug', ...kube(ns)]);
    assert.deepEqual(await secretData(ns, name), installed);

    // rotation: the operator adds a key file to the chart's Secret, then selects it
    const second = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'sec1', format: 'pem' }).toString();
    const add = await api.request('PATCH', `/api/v1/namespaces/${ns}/secrets/${name}`, { data: { 'identity-2.pem': Buffer.from(second).toString('base64') } }, 'application/merge-patch+json');
    assert.equal(add.status, 200, JSON.stringify(add.body));
    mustHelm(['upgrade', 'cc-id', CHART, '--reuse-values', '--set', 'identityTokens.signingKey=identity-2', ...kube(ns)]);
    const rotated = await secretData(ns, name);
    assert.equal(rotated?.['identity-1.pem'], installed!['identity-1.pem']);
    assert.equal(Buffer.from(rotated?.['identity-2.pem'] ?? '', 'base64').toString('utf8'), second);
    const dep = await api.request('GET', `/apis/apps/v1/namespaces/${ns}/deployments/cc-id-claimcheck`);
    assert.ok(dep.body.spec.template.spec.containers[0].args.includes('--identity-signing-key=identity-2'));

    mustHelm(['uninstall', 'cc-id', ...kube(ns)]);
    assert.deepEqual(await secretData(ns, name), rotated, 'helm.sh/resource-policy: keep');
    mustHelm(['install', 'cc-id', CHART, '--skip-crds', '--set', ON, '--set', 'identityTokens.signingKey=identity-2', ...kube(ns)]);
    assert.deepEqual(await secretData(ns, name), rotated);
  });

  test('the enabled renders are accepted by kubectl apply --dry-run=server --validate=strict with zero warnings', async () => {
    const ns = await createNamespace(api, 'helm-identity-dry');
    for (const set of [[ON], [ON, 'identityTokens.existingSecret=my-keys', 'identityTokens.signingKey=k2', 'networkPolicy.enabled=true']]) {
      const rendered = templateRaw({ namespace: ns, set: [...set, 'tests.enabled=false'] });
      const r = await api.kubectl(['apply', '--dry-run=server', '--validate=strict', '-f', '-'], { input: rendered });
      assert.equal(r.code, 0, `${r.stderr}\n${r.stdout}`);
      assert.equal(r.stderr.trim(), '', 'warnings from the API server');
      assert.equal(r.stdout.trim().split('\n').length, parseDocs(rendered).length, r.stdout);
    }
  });
});
