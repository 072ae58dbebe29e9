/**
 * The OpenTelemetry SDK environment variables claimcheck reads (OpenTelemetry specification,
 * "Environment Variable Specification"): whether tracing is on, the OTLP protocol, the sampler
 * and the service name. The exporters read the endpoint, headers and timeout themselves.
 */
import { ClaimcheckError } from '../errors.js';

export interface OtelSettings {
  protocol: 'http/protobuf' | 'grpc';
  sampler: 'always_on' | 'always_off' | 'traceidratio';
  /** parentbased_*: a sampled (or not) parent decides; the sampler applies to root spans */
  parentBased: boolean;
  ratio: number;
  samplerName: string;
  serviceName: string;
}

const SAMPLERS: Record<string, Pick<OtelSettings, 'sampler' | 'parentBased'>> = {
  always_on: { sampler: 'always_on', parentBased: false },
  always_off: { sampler: 'always_off', parentBased: false },
  traceidratio: { sampler: 'traceidratio', parentBased: false },
  parentbased_always_on: { sampler: 'always_on', parentBased: true },
  parentbased_always_off: { sampler: 'always_off', parentBased: true },
  parentbased_traceidratio: { sampler: 'traceidratio', parentBased: true },
};

const bad = (message: string) => new ClaimcheckError('bad_flag', message);

/** undefined: tracing is off, and no OpenTelemetry module is loaded. Throws bad_flag on a value it cannot use. */
export function otelSettings(env: NodeJS.ProcessEnv): OtelSettings | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return undefined;
  const exporter = env.OTEL_TRACES_EXPORTER?.trim().toLowerCase();
  if (exporter === 'none') return undefined;
  if (exporter !== undefined && exporter !== '' && exporter !== 'otlp') throw bad(`OTEL_TRACES_EXPORTER must be otlp or none (got "${exporter}")`);
  if (!env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT && !env.OTEL_EXPORTER_OTLP_ENDPOINT) return undefined;
  const protocol = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf').trim();
  if (protocol !== 'http/protobuf' && protocol !== 'grpc') throw bad(`OTEL_EXPORTER_OTLP_PROTOCOL must be http/protobuf or grpc (got "${protocol}")`);
  const samplerName = (env.OTEL_TRACES_SAMPLER ?? 'parentbased_always_on').trim().toLowerCase();
  const sampler = SAMPLERS[samplerName];
  if (!sampler) throw bad(`OTEL_TRACES_SAMPLER must be one of ${Object.keys(SAMPLERS).join(', ')} (got "${samplerName}")`);
  let ratio = 1;
  if (sampler.sampler === 'traceidratio' && env.OTEL_TRACES_SAMPLER_ARG !== undefined) {
    ratio = Number(env.OTEL_TRACES_SAMPLER_ARG);
    if (!(ratio >= 0 && ratio <= 1)) throw bad(`OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1 (got "${env.OTEL_TRACES_SAMPLER_ARG}")`);
  }
  return { protocol, ...sampler, ratio, samplerName, serviceName: env.OTEL_SERVICE_NAME?.trim() || 'claimcheck' };
}
