/**
 * deploy/'s HTTP ext_authz variants, validated like the gRPC ones (mesh-manifests.test.ts):
 * envoy-http.yaml parsed strictly with Envoy's own protos, the Istio envoyExtAuthzHttp
 * provider with Istio's MeshConfig proto, and the walkthrough's requests sent to a real
 * claimcheck the way Envoy, istiod and Envoy Gateway configure the HTTP client
 * (test/helpers/envoy-http-authz.ts). The Kubernetes objects are applied to a real
 * kube-apiserver in mesh-manifests.test.ts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { REPO, startClaimcheck, type ClaimcheckProcess } from '../helpers/claimcheck-process.js';
import { UPSTREAM_INCLUDE_DIRS } from '../helpers/envoy-client.js';
import { checkRequest, envoyOutcome, fromEnvoyGateway, fromExtAuthz, fromIstioProvider, matches, type DownstreamRequest, type EnvoyHttpAuthz } from '../helpers/envoy-http-authz.js';
import { openHttp1 } from '../helpers/http1-connection.js';
import { EXT_AUTHZ_PREFIX } from '../../src/http-authz/read-authz-request.js';
import { StrictProtoJson, formatIssues } from './lib/strict-proto-json.js';
import { assertMutationsCaught, type Mutation } from './lib/proto-mutations.js';
import { helmSkipReason, parseDocs, template, thirdPartyDir, thirdPartySkipReason } from './lib/tools.js';
import { demoToken } from './lib/demo-requests.js';
import { skipFor } from '../helpers/skip.js';

const deploy = (p: string) => join(REPO, 'deploy', p);
const yamlOf = (p: string) => YAML.parse(readFileSync(deploy(p), 'utf8'));
const PROTOBUFJS = join(REPO, 'node_modules/protobufjs');
const BOOTSTRAP = 'envoy.config.bootstrap.v3.Bootstrap';
const extAuthz = (doc: any) => doc.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0].typed_config;
const istioProvider = () => yamlOf('istio/install/istiod-values-http.yaml').meshConfig.extensionProviders[0];
const gatewayExtAuth = () => parseDocs(readFileSync(deploy('gateway/http/securitypolicy.yaml'), 'utf8')).find((d) => d.kind === 'SecurityPolicy')!.spec.extAuth;

/** identity.headers of every AuthPolicy in these files. */
function identityHeaders(...files: string[]): string[] {
  return files.flatMap((f) => parseDocs(readFileSync(join(REPO, f), 'utf8')).filter((d) => d.kind === 'AuthPolicy').flatMap((d) => Object.keys(d.spec.identity?.headers ?? {})));
}

describe('deploy/envoy/envoy-http.yaml with Envoy\'s own protos', () => {
  let proto: StrictProtoJson;
  let envoy: any;
  before(() => {
    proto = new StrictProtoJson([...UPSTREAM_INCLUDE_DIRS, PROTOBUFJS], ['envoy/config/bootstrap/v3/bootstrap.proto']);
    envoy = yamlOf('envoy/envoy-http.yaml');
  });

  test('parses as envoy.config.bootstrap.v3.Bootstrap with unknown fields rejected, every @type resolved and required fields set', () => {
    const issues = proto.validate(envoy, BOOTSTRAP);
    assert.deepEqual(issues, [], formatIssues(issues));
  });

  test('the strict parse rejects a misspelled http_service field, a missing timeout and the deprecated authorization_request.allowed_headers', () => {
    const cases: Mutation[] = [
      ['misspelled', (d) => { extAuthz(d).http_service.path_prefx = '/x'; }, /unknown field "path_prefx" in envoy\.extensions\.filters\.http\.ext_authz\.v3\.HttpService/],
      ['misspelled response', (d) => { extAuthz(d).http_service.authorization_response.allowed_upstream_header = {}; }, /unknown field "allowed_upstream_header" in envoy\.extensions\.filters\.http\.ext_authz\.v3\.AuthorizationResponse/],
      ['misspelled matcher', (d) => { extAuthz(d).allowed_headers.patterns[0] = { exacts: 'authorization' }; }, /unknown field "exacts" in envoy\.type\.matcher\.v3\.StringMatcher/],
      ['required', (d) => { delete extAuthz(d).http_service.server_uri.timeout; }, /required field timeout of envoy\.config\.core\.v3\.HttpUri is missing/],
      ['deprecated', (d) => { const f = extAuthz(d); f.http_service.authorization_request = { allowed_headers: f.allowed_headers }; delete f.allowed_headers; }, /deprecated field allowed_headers in envoy\.extensions\.filters\.http\.ext_authz\.v3\.AuthorizationRequest/],
    ];
    assertMutationsCaught(proto, envoy, BOOTSTRAP, cases);
  });

  test('fails closed with 503, calls claimcheck\'s /ext-authz endpoint over HTTP/1.1 on 9292 and health-checks /readyz', () => {
    const f = extAuthz(envoy);
    assert.equal(f.failure_mode_allow, false);
    assert.equal(f.status_on_error.code, 'ServiceUnavailable');
    assert.equal(f.http_service.path_prefix, EXT_AUTHZ_PREFIX);
    assert.match(f.http_service.server_uri.timeout, /^0\.\d+s$/);
    const cluster = envoy.static_resources.clusters.find((c: any) => c.name === f.http_service.server_uri.cluster);
    assert.equal(cluster.typed_extension_protocol_options, undefined, 'no HTTP/2: the listener speaks HTTP/1.1');
    const ep = cluster.load_assignment.endpoints[0].lb_endpoints[0].endpoint;
    assert.equal(ep.address.socket_address.port_value, 9292);
    assert.equal(cluster.health_checks[0].http_health_check.path, '/readyz');
    assert.equal(ep.health_check_config.port_value, 9090, 'the default --http-addr port');
  });

  test('every identity header of the bundled examples goes upstream, every header claimcheck reads reaches it, and the log reads a header the filter copies', () => {
    const cfg = fromExtAuthz(extAuthz(envoy));
    const identity = identityHeaders('examples/demo-policy.yaml');
    assert.ok(identity.length >= 3);
    for (const h of [...identity, 'cookie']) assert.ok(matches(cfg.allowedUpstreamHeaders, h), `allowed_upstream_headers lacks ${h}`);
    for (const h of ['authorization', 'cookie', 'dpop', 'x-request-id', 'x-claimcheck-anything']) assert.ok(matches(cfg.allowedHeaders, h), `allowed_headers lacks ${h}`);
    for (const h of ['www-authenticate', 'content-type', 'cache-control']) assert.ok(matches(cfg.allowedClientHeaders, h), `allowed_client_headers lacks ${h}`);
    const format = JSON.stringify(envoy.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.access_log);
    const keys = [...format.matchAll(/%DYNAMIC_METADATA\(envoy\.filters\.http\.ext_authz:([a-z_-]+)\)%/g)].map((m) => m[1]!);
    assert.deepEqual(keys, ['x-user-id']);
    for (const k of keys) assert.ok(matches(extAuthz(envoy).http_service.authorization_response.dynamic_metadata_from_headers.patterns, k), k);
  });
});

const istioSkip = skipFor('Istio mesh config proto check', thirdPartySkipReason());

describe('deploy/istio/install/istiod-values-http.yaml with Istio\'s own protos', { skip: istioSkip }, () => {
  let proto: StrictProtoJson;
  before(() => {
    const istio = join(thirdPartyDir(), 'istio-api');
    proto = new StrictProtoJson([istio, join(istio, 'common-protos'), PROTOBUFJS], ['mesh/v1alpha1/config.proto']);
  });

  test('istio-operator-http.yaml carries the same provider', () => {
    assert.deepEqual(yamlOf('istio/install/istio-operator-http.yaml').spec.meshConfig, yamlOf('istio/install/istiod-values-http.yaml').meshConfig);
  });

  test('is a strict istio.mesh.v1alpha1.MeshConfig with a fail-closed envoyExtAuthzHttp provider on /ext-authz; a misspelled field fails', () => {
    const mesh = yamlOf('istio/install/istiod-values-http.yaml').meshConfig;
    const issues = proto.validate(mesh, 'istio.mesh.v1alpha1.MeshConfig');
    assert.deepEqual(issues, [], formatIssues(issues));
    const p = mesh.extensionProviders[0].envoyExtAuthzHttp;
    assert.equal(p.failOpen, false);
    assert.equal(p.statusOnError, '503');
    assert.equal(p.port, 9292);
    assert.equal(p.pathPrefix, EXT_AUTHZ_PREFIX);
    assert.match(p.timeout, /^0\.\d+s$/);
    for (const [field, bad] of [['pathPrefix', 'pathprefix'], ['headersToUpstreamOnAllow', 'headersToUpstreamOnAlow']] as const) {
      const m = structuredClone(mesh);
      m.extensionProviders[0].envoyExtAuthzHttp[bad] = m.extensionProviders[0].envoyExtAuthzHttp[field];
      assert.match(formatIssues(proto.validate(m, 'istio.mesh.v1alpha1.MeshConfig')), new RegExp(`unknown field "${bad}"`));
    }
  });

  test('the HTTP AuthorizationPolicy names this provider, and the provider forwards the httpbin policy\'s identity headers', () => {
    const ap = parseDocs(readFileSync(deploy('istio/http/authorizationpolicy.yaml'), 'utf8'))[0]!;
    assert.equal(ap.spec.action, 'CUSTOM');
    assert.equal(ap.spec.provider.name, istioProvider().name);
    const cfg = fromIstioProvider(istioProvider().envoyExtAuthzHttp);
    for (const h of identityHeaders('deploy/istio/issuer-and-policy.yaml')) assert.ok(matches(cfg.allowedUpstreamHeaders, h), h);
  });

  test('the provider points at the http-authz port of the Service `helm install claimcheck -n claimcheck-system --set httpAuthz.enabled=true` creates', { skip: skipFor('mesh config Service name', helmSkipReason()) }, () => {
    const svc = template({ release: 'claimcheck', namespace: 'claimcheck-system', set: ['httpAuthz.enabled=true'] }).find((d) => d.kind === 'Service')!;
    const p = istioProvider().envoyExtAuthzHttp;
    assert.equal(p.service, `${svc.metadata.name}.${svc.metadata.namespace}.svc.cluster.local`);
    assert.equal(p.port, svc.spec.ports.find((x: any) => x.name === 'http-authz')?.port);
  });
});

describe('the HTTP walkthroughs through a real claimcheck, with the client istiod and Envoy Gateway configure', () => {
  let dir: string;
  let cc: ClaimcheckProcess;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'claimcheck-deploy-http-'));
    for (const f of ['istio/issuer-and-policy.yaml', 'gateway/policy.yaml']) writeFileSync(join(dir, f.replace('/', '-')), readFileSync(deploy(f)));
    cc = await startClaimcheck({ configDir: dir, args: ['--namespace', 'claimcheck-system', '--authz-http-addr', '127.0.0.1:0'] });
  });
  after(async () => {
    await cc?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const through = async (cfg: EnvoyHttpAuthz, req: DownstreamRequest) => {
    const conn = await openHttp1({ port: cc.authzHttpPort });
    try {
      const sent = checkRequest(cfg, req);
      return envoyOutcome(cfg, req, await conn.request(sent.method, sent.target, sent.headers));
    } finally {
      conn.close();
    }
  };
  const header = (hs: [string, string][], name: string) => hs.filter(([n]) => n === name).map(([, v]) => v);

  const variants: [string, () => EnvoyHttpAuthz, string][] = [
    ['Istio envoyExtAuthzHttp (sidecar sends :authority as the client wrote it)', () => fromIstioProvider(istioProvider().envoyExtAuthzHttp), 'httpbin.demo:8000'],
    ['Envoy Gateway extAuth.http (policy chosen by host)', () => fromEnvoyGateway(gatewayExtAuth()), 'demo.example.com'],
  ];
  for (const [what, config, authority] of variants) {
    test(`${what}: allowed with x-user-id upstream and the token removed; 401 and 403 reach the client with challenge and body`, async () => {
      const cfg = config();
      const ok = await through(cfg, { method: 'GET', path: '/headers', authority, headers: [['authorization', `Bearer ${demoToken('api:read')}`], ['x-user-id', 'admin']] });
      assert.equal(ok.kind, 'allowed', JSON.stringify(ok));
      if (ok.kind !== 'allowed') return;
      assert.deepEqual(header(ok.upstreamHeaders, 'x-user-id'), ['alice']);
      assert.deepEqual(header(ok.upstreamHeaders, 'authorization'), [], 'forwardToken: false');
      const anon = await through(cfg, { method: 'GET', path: '/headers', authority, headers: [] });
      assert.equal(anon.kind === 'denied' && anon.status, 401);
      if (anon.kind !== 'denied') return;
      assert.match(header(anon.clientHeaders, 'www-authenticate')[0] ?? '', /^Bearer realm="(httpbin\.demo|demo\.example\.com)"$/);
      assert.deepEqual(header(anon.clientHeaders, 'content-type'), ['application/json']);
      assert.equal(JSON.parse(anon.body).error, 'unauthorized');
      const health = await through(cfg, { method: 'GET', path: '/status/200', authority, headers: [['x-user-id', 'admin']] });
      assert.equal(health.kind, 'allowed', 'anonymous health path');
      if (health.kind === 'allowed') assert.deepEqual(header(health.upstreamHeaders, 'x-user-id'), [], 'spoofed identity removed on an anonymous rule');
    });
  }

  test('Istio: api:read cannot POST, and the client gets 403 insufficient_scope', async () => {
    const cfg = fromIstioProvider(istioProvider().envoyExtAuthzHttp);
    const r = await through(cfg, { method: 'POST', path: '/post', authority: 'httpbin.demo:8000', headers: [['authorization', `Bearer ${demoToken('api:read')}`]] });
    assert.equal(r.kind === 'denied' && r.status, 403);
    if (r.kind === 'denied') assert.deepEqual(header(r.clientHeaders, 'www-authenticate'), ['Bearer realm="httpbin.demo", error="insufficient_scope", scope="api:write"']);
  });
});
