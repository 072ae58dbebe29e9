/**
 * deploy/: the standalone Envoy bootstrap parsed strictly with Envoy's own protos, the
 * Istio mesh config with Istio's, the Kubernetes manifests applied with
 * `kubectl apply --dry-run=server` against the Istio, Gateway API and Envoy Gateway
 * CRDs, and the claimcheck resources they ship served by the real server.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { BIN, REPO, startClaimcheck, type ClaimcheckProcess } from '../helpers/claimcheck-process.js';
import { UPSTREAM_INCLUDE_DIRS, createEnvoyClient } from '../helpers/envoy-client.js';
import { k8sSkipReason, startKubeApiserver, type KubeApiserver } from '../k8s/harness.js';
import { installCrds } from '../k8s/cluster-fixture.js';
import { StrictProtoJson, formatIssues } from './lib/strict-proto-json.js';
import { assertMutationsCaught, type Mutation } from './lib/proto-mutations.js';
import { THIRD_PARTY_CRDS, helmSkipReason, parseDocs, template, thirdPartyDir, thirdPartySkipReason } from './lib/tools.js';
import { applyThirdPartyCrds, ensureNamespace } from './lib/cluster.js';
import { assertAllowsAndDenies, demoToken } from './lib/demo-requests.js';
import { skipFor } from '../helpers/skip.js';

const deploy = (p: string) => join(REPO, 'deploy', p);
const PROTOBUFJS = join(REPO, 'node_modules/protobufjs');
const BOOTSTRAP = 'envoy.config.bootstrap.v3.Bootstrap';

describe('deploy/envoy/envoy.yaml with Envoy\'s own protos', () => {
  let proto: StrictProtoJson;
  let envoy: any;
  const extAuthz = (doc: any) => doc.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0].typed_config;
  before(() => {
    proto = new StrictProtoJson([...UPSTREAM_INCLUDE_DIRS, PROTOBUFJS], ['envoy/config/bootstrap/v3/bootstrap.proto']);
    envoy = YAML.parse(readFileSync(deploy('envoy/envoy.yaml'), 'utf8'));
  });

  test('parses as envoy.config.bootstrap.v3.Bootstrap with unknown fields rejected, every @type resolved and required fields set', () => {
    const issues = proto.validate(envoy, BOOTSTRAP);
    assert.deepEqual(issues, [], formatIssues(issues));
  });

  test('the strict parse rejects a misspelled field, a wrong type, an unknown @type, a missing required field and a deprecated field', () => {
    const cases: Mutation[] = [
      ['misspelled', (d) => { extAuthz(d).failure_mode_alow = false; }, /unknown field "failure_mode_alow" in envoy\.extensions\.filters\.http\.ext_authz\.v3\.ExtAuthz/],
      ['wrong type', (d) => { extAuthz(d).grpc_service.timeout = 0.5; }, /Duration must be a string/],
      ['unknown @type', (d) => { extAuthz(d)['@type'] = 'type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthZ'; }, /no such message/],
      ['required', (d) => { delete d.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.stat_prefix; }, /stat_prefix must be a non-empty string/],
      ['enum', (d) => { extAuthz(d).transport_api_version = 'V4'; }, /"V4" is not a value of enum envoy\.config\.core\.v3\.ApiVersion/],
      ['deprecated', (d) => { d.static_resources.clusters[0].http2_protocol_options = {}; }, /deprecated field http2_protocol_options in envoy\.config\.cluster\.v3\.Cluster/],
      ['oneof', (d) => { extAuthz(d).http_service = { server_uri: { uri: 'http://x', cluster: 'x', timeout: '1s' } }; }, /only one of grpc_service, http_service/],
    ];
    assertMutationsCaught(proto, envoy, BOOTSTRAP, cases);
  });

  test('ext_authz fails closed with a timeout, over an HTTP/2 gRPC cluster with gRPC health checks', () => {
    const f = extAuthz(envoy);
    assert.equal(f.failure_mode_allow, false);
    assert.equal(f.transport_api_version, 'V3');
    assert.equal(f.grpc_service.envoy_grpc.cluster_name, 'claimcheck');
    assert.match(f.grpc_service.timeout, /^0\.\d+s$/);
    const cluster = envoy.static_resources.clusters.find((c: any) => c.name === 'claimcheck');
    assert.ok(cluster.typed_extension_protocol_options['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'].explicit_http_config.http2_protocol_options);
    assert.equal(cluster.health_checks[0].grpc_health_check.service_name, 'envoy.service.auth.v3.Authorization');
    assert.equal(cluster.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value, 9191);
  });

  test('claimcheck-cluster-mtls.yaml is the same cluster over mutual TLS: a strict Cluster with an UpstreamTlsContext offering h2', () => {
    const tlsProto = new StrictProtoJson([...UPSTREAM_INCLUDE_DIRS, PROTOBUFJS], ['envoy/config/cluster/v3/cluster.proto', 'envoy/extensions/transport_sockets/tls/v3/tls.proto', 'envoy/extensions/upstreams/http/v3/http_protocol_options.proto']);
    const mtls = YAML.parse(readFileSync(deploy('envoy/claimcheck-cluster-mtls.yaml'), 'utf8'));
    const issues = tlsProto.validate(mtls, 'envoy.config.cluster.v3.Cluster');
    assert.deepEqual(issues, [], formatIssues(issues));
    const ctx = mtls.transport_socket.typed_config.common_tls_context;
    assert.deepEqual(ctx.alpn_protocols, ['h2']);
    assert.ok(ctx.tls_certificates[0].certificate_chain.filename && ctx.validation_context.trusted_ca.filename);
    const plain = envoy.static_resources.clusters.find((c: any) => c.name === 'claimcheck');
    const { transport_socket: _, ...rest } = mtls;
    assert.deepEqual(rest, plain, 'everything but the transport socket is envoy.yaml\'s cluster');
    assertMutationsCaught(tlsProto, mtls, 'envoy.config.cluster.v3.Cluster', [
      ['misspelled', (d) => { d.transport_socket.typed_config.common_tls_context.alpn_protocol = ['h2']; }, /unknown field "alpn_protocol"/],
    ]);
  });

  test('every dynamic metadata key the access log reads is one claimcheck sets on an allowed request', async () => {
    const format = JSON.stringify(envoy.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.access_log);
    const keys = [...format.matchAll(/%DYNAMIC_METADATA\(envoy\.filters\.http\.ext_authz:([a-z_]+)\)%/g)].map((m) => m[1]!);
    assert.deepEqual(keys.sort(), ['iss', 'policy', 'rule', 'sub']);
    const server = await startClaimcheck({ configDir: join(REPO, 'examples') });
    const client = createEnvoyClient(server.grpcAddress);
    try {
      const r = await client.check({ host: 'localhost', path: '/api/orders', headers: { authorization: `Bearer ${demoToken('api:read')}` } });
      assert.equal(r.code, 0);
      for (const k of keys) assert.ok(k in (r.dynamicMetadata ?? {}), `claimcheck sets no "${k}" (it sets ${Object.keys(r.dynamicMetadata ?? {}).join(', ')})`);
    } finally {
      client.close();
      await server.stop();
    }
  });

  test('every policy a route names in context_extensions exists in the bundled examples it is run with', async () => {
    const named = [...JSON.stringify(envoy).matchAll(/"claimcheck\.io\/policy":"([^"]+)"/g)].map((m) => m[1]!);
    assert.ok(named.length > 0, 'the example names a policy for a route');
    const server = await startClaimcheck({ configDir: join(REPO, 'examples') });
    const client = createEnvoyClient(server.grpcAddress);
    try {
      for (const key of named) {
        const r = await client.check({ host: 'any.example', path: '/api/orders', contextExtensions: { 'claimcheck.io/policy': key }, headers: { authorization: `Bearer ${demoToken('api:read')}` } });
        assert.equal(r.code, 0, `${key}: ${JSON.stringify(r)}`);
      }
    } finally {
      client.close();
      await server.stop();
    }
  });
});

const istioSkip = skipFor('Istio mesh config proto check', thirdPartySkipReason());

describe('Istio mesh config blocks with Istio\'s own protos', { skip: istioSkip }, () => {
  let proto: StrictProtoJson;
  before(() => {
    const istio = join(thirdPartyDir(), 'istio-api');
    proto = new StrictProtoJson([istio, join(istio, 'common-protos'), PROTOBUFJS], ['mesh/v1alpha1/config.proto']);
  });
  const blocks: [string, (d: any) => any][] = [
    ['istio/install/istiod-values.yaml', (d) => d.meshConfig],
    ['istio/install/istio-operator.yaml', (d) => d.spec.meshConfig],
    ['sidecar/install/istiod-values.yaml', (d) => d.meshConfig],
  ];
  for (const [file, pick] of blocks) {
    test(`deploy/${file} is a strict istio.mesh.v1alpha1.MeshConfig with a fail-closed claimcheck provider`, () => {
      const mesh = pick(YAML.parse(readFileSync(deploy(file), 'utf8')));
      const issues = proto.validate(mesh, 'istio.mesh.v1alpha1.MeshConfig');
      assert.deepEqual(issues, [], formatIssues(issues));
      const p = mesh.extensionProviders[0].envoyExtAuthzGrpc;
      assert.equal(p.failOpen, false);
      assert.equal(p.port, 9191);
      assert.match(p.timeout, /^0\.\d+s$/);
      const bad = structuredClone(mesh);
      bad.extensionProviders[0].envoyExtAuthzGrpc.failopen = true;
      assert.match(formatIssues(proto.validate(bad, 'istio.mesh.v1alpha1.MeshConfig')), /unknown field "failopen"/);
    });
  }

  test('the mesh config points at the Service `helm install claimcheck -n claimcheck-system` creates', { skip: skipFor('mesh config Service name', helmSkipReason()) }, () => {
    const svc = template({ release: 'claimcheck', namespace: 'claimcheck-system' }).find((d) => d.kind === 'Service')!;
    const p = YAML.parse(readFileSync(deploy('istio/install/istiod-values.yaml'), 'utf8')).meshConfig.extensionProviders[0].envoyExtAuthzGrpc;
    assert.equal(p.service, `${svc.metadata.name}.${svc.metadata.namespace}.svc.cluster.local`);
    assert.equal(p.port, svc.spec.ports.find((x: any) => x.name === 'grpc').port);
  });
});

describe('claimcheck resources shipped under deploy/', () => {
  const dirs: string[] = [];
  const servers: ClaimcheckProcess[] = [];
  after(async () => {
    for (const s of servers) await s.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const tempDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'claimcheck-deploy-'));
    dirs.push(d);
    return d;
  };

  test('the Istio and Gateway examples validate, and the walkthrough\'s requests get the documented answers', async () => {
    const files = [deploy('istio/issuer-and-policy.yaml'), deploy('gateway/policy.yaml')];
    const v = spawnSync(process.execPath, [BIN, 'validate', '--namespace', 'claimcheck-system', ...files], { encoding: 'utf8' });
    assert.equal(v.status, 0, v.stdout + v.stderr);
    const dir = tempDir();
    for (const f of files) writeFileSync(join(dir, f.split('/').slice(-2).join('-')), readFileSync(f));
    const server = await startClaimcheck({ configDir: dir, args: ['--namespace', 'claimcheck-system'] });
    servers.push(server);
    // Istio sends :authority as the client wrote it, port included
    await assertAllowsAndDenies(server.grpcAddress, { host: 'httpbin.demo:8000', path: '/headers', scope: 'api:read' });
    const client = createEnvoyClient(server.grpcAddress);
    try {
      const health = await client.check({ host: 'httpbin.demo:8000', path: '/status/200' });
      assert.equal(health.code, 0, 'anonymous health path');
      const anonymous = await client.check({ host: 'httpbin.demo:8000', path: '/headers' });
      assert.equal(anonymous.headers['www-authenticate'], 'Bearer realm="httpbin.demo"');
      const read = await client.check({ host: 'httpbin.demo:8000', path: '/headers', headers: { authorization: `Bearer ${demoToken('api:read')}`, 'x-user-id': 'admin' } });
      assert.equal(read.headers['x-user-id'], 'alice', 'the spoofed x-user-id is replaced');
      assert.equal(read.headers['x-scopes'], 'api:read');
      assert.ok(read.headersToRemove.includes('authorization'), 'forwardToken: false removes the token');
      const write = await client.check({ host: 'httpbin.demo:8000', path: '/post', method: 'POST', headers: { authorization: `Bearer ${demoToken('api:read')}` } });
      assert.equal(write.httpStatus, 403, 'api:read cannot write');
      assert.equal(write.headers['www-authenticate'], 'Bearer realm="httpbin.demo", error="insufficient_scope", scope="api:write"');
      // Envoy Gateway names the policy with a context extension
      const gw = await client.check({ host: 'anything.example', path: '/headers', contextExtensions: { 'claimcheck.io/policy': 'demo/httpbin-gateway' }, headers: { authorization: `Bearer ${demoToken('api:read')}` } });
      assert.equal(gw.code, 0, JSON.stringify(gw.raw?.status));
    } finally {
      client.close();
    }
  });

  test('the sidecar ConfigMap validates and its in-pod claimcheck answers on a localhost address', async () => {
    const cm = parseDocs(readFileSync(deploy('sidecar/app-with-claimcheck.yaml'), 'utf8')).find((d) => d.kind === 'ConfigMap')!;
    const dir = tempDir();
    for (const [name, text] of Object.entries(cm.data as Record<string, string>)) writeFileSync(join(dir, name), text);
    const v = spawnSync(process.execPath, [BIN, 'validate', '--namespace', 'demo', dir], { encoding: 'utf8' });
    assert.equal(v.status, 0, v.stdout + v.stderr);
    const dep = parseDocs(readFileSync(deploy('sidecar/app-with-claimcheck.yaml'), 'utf8')).find((d) => d.kind === 'Deployment')!;
    const sidecar = dep.spec.template.spec.initContainers[0];
    assert.equal(sidecar.restartPolicy, 'Always');
    assert.ok(sidecar.args.includes('--grpc-addr=127.0.0.1:9191'));
    const server = await startClaimcheck({ configDir: dir, env: { POD_NAMESPACE: 'demo' } });
    servers.push(server);
    await assertAllowsAndDenies(server.grpcAddress, { host: 'orders.demo:8000', path: '/anything', scope: 'api:read' });
  });
});

const clusterSkip = skipFor('deploy/ manifests against kube-apiserver', k8sSkipReason() ?? thirdPartySkipReason());

describe('deploy/ manifests against a real kube-apiserver with the Istio, Gateway API and Envoy Gateway CRDs', { skip: clusterSkip }, () => {
  let api: KubeApiserver;
  before(async () => {
    api = await startKubeApiserver();
    await installCrds(api);
    await applyThirdPartyCrds(api, [THIRD_PARTY_CRDS.istio, THIRD_PARTY_CRDS.gatewayApi, THIRD_PARTY_CRDS.envoyGatewaySecurityPolicy]);
    // dry-run creates nothing: the namespaces the manifests use must exist. demo-app.yaml
    // declares "demo" itself, so create it the way `kubectl apply` would (annotation and all).
    const demoNs = parseDocs(readFileSync(deploy('istio/demo-app.yaml'), 'utf8')).find((d) => d.kind === 'Namespace')!;
    const r = await api.kubectl(['apply', '-f', '-'], { input: JSON.stringify(demoNs) });
    assert.equal(r.code, 0, r.stderr);
    await ensureNamespace(api, 'claimcheck-system');
  });
  after(() => api?.stop());

  // Whole directories, as the READMEs say (Helm values, not Kubernetes objects, live in install/).
  const sets: [string, string][] = [
    ['Istio (demo app, AuthorizationPolicy CUSTOM, issuer and policy)', 'istio'],
    ['sidecar (app with in-pod claimcheck, ServiceEntry, AuthorizationPolicy)', 'sidecar'],
    ['Envoy Gateway (Gateway, HTTPRoute, SecurityPolicy with extAuth, ReferenceGrant, policy)', 'gateway'],
    ['Istio HTTP variant (AuthorizationPolicy CUSTOM naming the envoyExtAuthzHttp provider)', 'istio/http'],
    ['Istio TLS origination to a claimcheck outside the mesh (DestinationRule MUTUAL)', 'istio/tls'],
    ['Envoy Gateway HTTP variant (SecurityPolicy with extAuth.http, ReferenceGrant)', 'gateway/http'],
  ];
  for (const [what, dir] of sets) {
    test(`${what}: kubectl apply --dry-run=server -f deploy/${dir}/ accepts every object with strict field validation`, async () => {
      const files = readdirSync(deploy(dir)).filter((f) => /\.ya?ml$/.test(f));
      const count = files.reduce((n, f) => n + parseDocs(readFileSync(deploy(`${dir}/${f}`), 'utf8')).length, 0);
      const r = await api.kubectl(['apply', '--dry-run=server', '--validate=strict', '-f', deploy(`${dir}/`)]);
      assert.equal(r.code, 0, `${r.stderr}\n${r.stdout}`);
      assert.equal(r.stderr.trim(), '', 'warnings from the API server');
      assert.equal(r.stdout.trim().split('\n').length, count, r.stdout);
    });
  }
  const misspelled: [string, string, string, RegExp][] = [
    ...['istio/authorizationpolicy.yaml', 'istio/http/authorizationpolicy.yaml'].map((f): [string, string, string, RegExp] => [f, 'action: CUSTOM', 'action: CUSTOM\n  provder: {name: x}', /unknown field "spec\.provder"/]),
    ['gateway/http/securitypolicy.yaml', 'path: /ext-authz', 'path: /ext-authz\n      pathPrefix: /ext-authz', /unknown field "spec\.extAuth\.http\.pathPrefix"/],
    ['istio/tls/destinationrule.yaml', 'mode: MUTUAL', 'mode: MUTUAL\n          credentialNames: x', /unknown field "spec\.trafficPolicy\.portLevelSettings\[0\]\.tls\.credentialNames"/],
  ];
  for (const [file, from, to, message] of misspelled) {
    test(`a misspelled field in deploy/${file} is rejected by the CRD schema (the dry run is strict)`, async () => {
      const text = readFileSync(deploy(file), 'utf8');
      assert.ok(text.includes(from), `${file} has no "${from}" to misspell`);
      const r = await api.kubectl(['apply', '--dry-run=server', '--validate=strict', '-f', '-'], { input: text.replace(from, to) });
      assert.notEqual(r.code, 0, 'accepted');
      assert.match(r.stderr, message);
    });
  }
});
