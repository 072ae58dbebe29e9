/**
 * OpenTelemetry traces from a real claimcheck process to a real OTLP receiver (Jaeger v2), over
 * OTLP/HTTP and OTLP/gRPC: one span per Check, child of the traceparent (or B3) Envoy sent,
 * named after the method, with the decision's attributes; the key fetch a Check waited on is
 * its child; no token, claim value or header value anywhere in what Jaeger stored.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { AUDIENCE, createFixture, resourceDoc, type Fixture } from '../helpers/fixture-config.js';
import { eventually, startClaimcheck, type ClaimcheckProcess } from '../helpers/claimcheck-process.js';
import { createEnvoyClient, type EnvoyClient } from '../helpers/envoy-client.js';
import { jaegerSkipReason, startJaeger, type Jaeger, type JaegerSpan } from '../helpers/jaeger.js';
import { startJwksServer, type JwksServer } from '../helpers/jwks-server.js';
import { skipFor } from '../helpers/skip.js';
import { generateKey, jwksOf, signToken } from '../helpers/tokens.js';

const skip = skipFor('tracing suite', jaegerSkipReason());
const HOST = 'payments.example.com';
const REMOTE_ISS = 'https://remote.test.invalid';
const tag = (s: JaegerSpan, key: string) => s.tags.find((t) => t.key === key)?.value;
const hex = (bytes: number) => randomBytes(bytes).toString('hex');

for (const protocol of ['http/protobuf', 'grpc'] as const) {
  describe(`traces over OTLP ${protocol} to Jaeger`, { skip }, () => {
    let jaeger: Jaeger;
    let fx: Fixture;
    let cc: ClaimcheckProcess;
    let envoy: EnvoyClient;
    let jwks: JwksServer;
    const first = generateKey('ES256', 'remote-1');
    const second = generateKey('ES256', 'remote-2');
    const service = `claimcheck-test-${protocol === 'grpc' ? 'grpc' : 'http'}`;
    /** the Check span of a trace, once Jaeger has it */
    const checkSpanOf = async (traceId: string) =>
      (await eventually(async () => (await jaeger.trace(traceId)).find((s) => s.operationName === 'envoy.service.auth.v3.Authorization/Check'), 10_000, 100))!;

    before(async () => {
      jaeger = await startJaeger();
      jwks = await startJwksServer({ jwks: jwksOf(first) });
      fx = await createFixture();
      await fx.write('remote.yaml', [
        resourceDoc('TrustedIssuer', 'remote', { issuer: REMOTE_ISS, jwks: { uri: jwks.jwksUrl, allowInsecureHttp: true, minRefreshInterval: '1s' }, audiences: [AUDIENCE], algorithms: ['ES256'] }),
        resourceDoc('AuthPolicy', 'remote', { hosts: ['remote.example.com'], issuers: ['remote'], rules: [{ name: 'any', match: { paths: ['/**'] } }] }),
      ]);
      const endpoint = protocol === 'grpc' ? jaeger.otlpGrpc : jaeger.otlpHttp;
      cc = await startClaimcheck({
        configDir: fx.dir,
        args: ['--workers', '1'],
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: protocol, OTEL_SERVICE_NAME: service, OTEL_BSP_SCHEDULE_DELAY: '100' },
      });
      envoy = createEnvoyClient(cc.grpcAddress);
    });
    after(async () => {
      envoy?.close();
      await cc?.stop();
      await fx?.cleanup();
      await jwks?.close();
      await jaeger?.stop();
    });

    test('an allowed Check: one server span, child of the W3C traceparent, with policy, rule, decision, reason and issuer', async () => {
      const [traceId, parent] = [hex(16), hex(8)];
      const token = await fx.sign({ sub: 'user-7', tenant: 'acme-secret-tenant' });
      const r = await envoy.check({ host: HOST, path: '/v1/accounts', headers: { authorization: `Bearer ${token}`, traceparent: `00-${traceId}-${parent}-01`, 'x-card': '4111111111111111' } });
      assert.equal(r.code, 0);
      const span = await checkSpanOf(traceId);
      assert.deepEqual(span.references.map((x) => [x.refType, x.spanID]), [['CHILD_OF', parent]]);
      assert.equal(tag(span, 'span.kind'), 'server');
      assert.deepEqual(['claimcheck.policy', 'claimcheck.rule', 'claimcheck.decision', 'claimcheck.reason', 'claimcheck.issuer'].map((k) => tag(span, k)), ['default/payments', 'read', 'allow', 'allowed', 'default/corp-idp']);
      const raw = await jaeger.rawTrace(traceId);
      for (const secret of [token, token.split('.')[1]!, 'user-7', 'acme-secret-tenant', '4111111111111111']) assert.ok(!raw.includes(secret), `"${secret.slice(0, 12)}…" reached Jaeger`);
      assert.match(raw, new RegExp(`"serviceName":"${service}"`));
    });

    test('a denied Check carries its reason; a B3 parent is followed too', async () => {
      const [traceId, parent] = [hex(16), hex(8)];
      const r = await envoy.check({ host: HOST, path: '/v1/accounts', headers: { b3: `${traceId}-${parent}-1` } });
      assert.equal(r.httpStatus, 401);
      const span = await checkSpanOf(traceId);
      assert.deepEqual(span.references.map((x) => x.spanID), [parent]);
      assert.deepEqual([tag(span, 'claimcheck.decision'), tag(span, 'claimcheck.reason')], ['deny', 'missing_token']);
      // both sent: the W3C parent wins
      const [w3c, w3cParent, b3Trace] = [hex(16), hex(8), hex(16)];
      await envoy.check({ host: HOST, path: '/v1/accounts', headers: { traceparent: `00-${w3c}-${w3cParent}-01`, b3: `${b3Trace}-${hex(8)}-1` } });
      assert.deepEqual((await checkSpanOf(w3c)).references.map((x) => x.spanID), [w3cParent]);
      assert.deepEqual(await jaeger.trace(b3Trace), []);
    });

    test('a key fetch the Check waited on (an unknown kid) is a child span of that Check', async () => {
      jwks.setJwks(jwksOf(first, second));
      await new Promise((r) => setTimeout(r, 1100)); // past minRefreshInterval since the start-up fetch
      const traceId = hex(16);
      const token = await signToken({ iss: REMOTE_ISS, aud: AUDIENCE, sub: 'u', exp: Math.floor(Date.now() / 1000) + 300 }, { key: second });
      const r = await envoy.check({ host: 'remote.example.com', path: '/x', headers: { authorization: `Bearer ${token}`, traceparent: `00-${traceId}-${hex(8)}-01` } });
      assert.equal(r.code, 0, r.body);
      const check = await checkSpanOf(traceId);
      const fetch = await eventually(async () => (await jaeger.trace(traceId)).find((s) => s.operationName === 'claimcheck.fetch jwks'), 10_000, 100);
      assert.ok(fetch, 'the fetch span is in the Check\'s trace');
      assert.deepEqual(fetch.references.map((x) => x.spanID), [check.spanID]);
      assert.deepEqual([tag(fetch, 'claimcheck.issuer'), tag(fetch, 'claimcheck.outcome')], ['default/remote', 'ok']);
    });
  });
}

describe('tracing off', { skip }, () => {
  test('without an OTLP endpoint nothing is sent and tracing does not start', async () => {
    const jaeger = await startJaeger();
    const fx = await createFixture();
    const cc = await startClaimcheck({ configDir: fx.dir, args: ['--workers', '1'], env: { OTEL_SERVICE_NAME: 'claimcheck-off' } });
    const envoy = createEnvoyClient(cc.grpcAddress);
    try {
      const traceId = hex(16);
      await envoy.check({ host: HOST, path: '/v1/accounts', headers: { traceparent: `00-${traceId}-${hex(8)}-01` } });
      await new Promise((r) => setTimeout(r, 1000));
      assert.deepEqual(await jaeger.trace(traceId), []);
      assert.ok(!cc.logs.some((l) => l.msg === 'OpenTelemetry tracing on'));
    } finally {
      envoy.close();
      await cc.stop();
      await fx.cleanup();
      await jaeger.stop();
    }
  });
});
