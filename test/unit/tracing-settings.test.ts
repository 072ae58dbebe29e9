/** telemetry/tracing-settings.ts: which OTEL_* variables turn tracing on, and what they may say. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { otelSettings } from '../../src/telemetry/tracing-settings.js';
import { startTracing } from '../../src/telemetry/tracing.js';
import { silentLogger } from '../../src/telemetry/logger.js';

const ON = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' };

describe('OpenTelemetry settings', () => {
  test('off without an endpoint, with OTEL_SDK_DISABLED or OTEL_TRACES_EXPORTER=none; startTracing then returns nothing', async () => {
    assert.equal(otelSettings({}), undefined);
    assert.equal(otelSettings({ ...ON, OTEL_SDK_DISABLED: 'true' }), undefined);
    assert.equal(otelSettings({ ...ON, OTEL_TRACES_EXPORTER: 'none' }), undefined);
    assert.equal(await startTracing({ OTEL_SERVICE_NAME: 'x' }, silentLogger(), '0'), undefined);
  });

  test('defaults: http/protobuf, parentbased_always_on, service claimcheck; the traces endpoint alone turns it on', () => {
    assert.deepEqual(otelSettings(ON), { protocol: 'http/protobuf', sampler: 'always_on', parentBased: true, ratio: 1, samplerName: 'parentbased_always_on', serviceName: 'claimcheck' });
    assert.equal(otelSettings({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://x:4318/v1/traces' })?.protocol, 'http/protobuf');
  });

  test('protocol, sampler with its ratio, and service name', () => {
    const s = otelSettings({ ...ON, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25', OTEL_SERVICE_NAME: 'authz' });
    assert.deepEqual(s, { protocol: 'grpc', sampler: 'traceidratio', parentBased: true, ratio: 0.25, samplerName: 'parentbased_traceidratio', serviceName: 'authz' });
    assert.equal(otelSettings({ ...ON, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf' })?.protocol, 'http/protobuf');
    assert.deepEqual([otelSettings({ ...ON, OTEL_TRACES_SAMPLER: 'always_off' })?.sampler, otelSettings({ ...ON, OTEL_TRACES_SAMPLER: 'always_off' })?.parentBased], ['always_off', false]);
  });

  test('values it cannot use refuse the start with one clear line', () => {
    assert.throws(() => otelSettings({ ...ON, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }), /OTEL_EXPORTER_OTLP_PROTOCOL must be http\/protobuf or grpc/);
    assert.throws(() => otelSettings({ ...ON, OTEL_TRACES_SAMPLER: 'sometimes' }), /OTEL_TRACES_SAMPLER must be one of/);
    assert.throws(() => otelSettings({ ...ON, OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '2' }), /OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1/);
    assert.throws(() => otelSettings({ ...ON, OTEL_TRACES_EXPORTER: 'zipkin' }), /OTEL_TRACES_EXPORTER must be otlp or none/);
  });
});
