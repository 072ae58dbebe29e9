/**
 * OpenTelemetry traces (docs/operations.md "Traces"): off unless an OTLP endpoint is set, and
 * then nothing of OpenTelemetry is even loaded. On: one server span per Check named after the
 * gRPC method, child of the W3C `traceparent` (or B3) in the request's headers, with the
 * decision's policy, rule, outcome, reason and issuer as attributes; key fetches and
 * introspections a Check waits on are its children (the async context carries the span).
 * Never a token, a claim value or a header value.
 */
import type { AuthRequest } from '../request.js';
import type { DecisionLog, DecisionOutcome } from './decision-log.js';
import type { Logger } from './logger.js';
import { otelSettings, type OtelSettings } from './tracing-settings.js';

export const CHECK_SPAN_NAME = 'envoy.service.auth.v3.Authorization/Check';

export interface Tracing {
  /** Runs one Check inside its span; the span ends when the answer is ready. */
  traceCheck<T>(req: AuthRequest, run: () => T | Promise<T>): T | Promise<T>;
  /** The decision log, also writing each decision's attributes onto the Check's span. */
  observe(log: DecisionLog): DecisionLog;
  /** A span for one key fetch or introspection request; call the result with its outcome. */
  fetchSpan(document: 'jwks' | 'discovery' | 'introspection', issuer: string): (outcome: string) => void;
  /** Exports what is still buffered. */
  shutdown(): Promise<void>;
}

type HeaderCarrier = ReadonlyMap<string, readonly string[]>;

/** undefined when tracing is off (no endpoint, OTEL_SDK_DISABLED, OTEL_TRACES_EXPORTER=none). */
export async function startTracing(env: NodeJS.ProcessEnv, logger: Logger, serviceVersion: string): Promise<Tracing | undefined> {
  const settings = otelSettings(env);
  if (!settings) return undefined;
  const tracing = await createTracing(settings, serviceVersion);
  logger.info({ protocol: settings.protocol, sampler: settings.samplerName, service: settings.serviceName }, 'OpenTelemetry tracing on');
  return tracing;
}

async function createTracing(s: OtelSettings, serviceVersion: string): Promise<Tracing> {
  const api = await import('@opentelemetry/api');
  const sdk = await import('@opentelemetry/sdk-trace');
  const { resourceFromAttributes } = await import('@opentelemetry/resources');
  const { CompositePropagator, W3CTraceContextPropagator } = await import('@opentelemetry/core');
  const { B3Propagator } = await import('@opentelemetry/propagator-b3');
  const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
  // the exporters read OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT, _HEADERS, _TIMEOUT themselves
  const exporter = s.protocol === 'grpc'
    ? new (await import('@opentelemetry/exporter-trace-otlp-grpc')).OTLPTraceExporter()
    : new (await import('@opentelemetry/exporter-trace-otlp-proto')).OTLPTraceExporter();
  const ratio = new sdk.TraceIdRatioBasedSampler(s.ratio);
  const root = s.sampler === 'always_on' ? new sdk.AlwaysOnSampler() : s.sampler === 'always_off' ? new sdk.AlwaysOffSampler() : ratio;
  const sampler = s.parentBased ? new sdk.ParentBasedSampler({ root }) : root;
  const provider = new sdk.TracerProvider({
    resource: resourceFromAttributes({ 'service.name': s.serviceName, 'service.version': serviceVersion }),
    sampler,
    spanProcessors: [new sdk.BatchSpanProcessor({ exporter })],
  });
  api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  // each propagator's extract overrides the one before: W3C last, so it wins over B3 (Zipkin, older Istio) when both are sent
  const propagator = new CompositePropagator({ propagators: [new B3Propagator(), new W3CTraceContextPropagator()] });
  const getter = {
    keys: (c: HeaderCarrier) => [...c.keys()],
    get: (c: HeaderCarrier, key: string) => {
      const v = c.get(key.toLowerCase());
      return v === undefined ? undefined : v.length === 1 ? v[0] : [...v];
    },
  };
  const tracer = provider.getTracer('claimcheck', serviceVersion);

  return {
    traceCheck(req, run) {
      const parent = propagator.extract(api.ROOT_CONTEXT, req.headers, getter);
      const span = tracer.startSpan(CHECK_SPAN_NAME, { kind: api.SpanKind.SERVER }, parent);
      return api.context.with(api.trace.setSpan(parent, span), () => {
        let result: ReturnType<typeof run>;
        try {
          result = run();
        } catch (err) {
          span.end();
          throw err;
        }
        if (result instanceof Promise) return result.finally(() => span.end());
        span.end();
        return result;
      });
    },
    observe(log) {
      return {
        // the answer cache builds the request for record() only when this is true
        logsAllows: true,
        record(req, outcome) {
          const span = api.trace.getActiveSpan();
          if (span?.isRecording()) {
            span.setAttributes(attributesOf(outcome));
            if (outcome.reason === 'internal_error') span.setStatus({ code: api.SpanStatusCode.ERROR, message: 'internal error' });
          }
          log.record(req, outcome);
        },
      };
    },
    fetchSpan(document, issuer) {
      const span = tracer.startSpan(`claimcheck.fetch ${document}`, { kind: api.SpanKind.CLIENT, attributes: { 'claimcheck.issuer': issuer, 'claimcheck.document': document } });
      return (outcome) => {
        span.setAttribute('claimcheck.outcome', outcome);
        if (outcome !== 'ok' && outcome !== 'active' && outcome !== 'inactive') span.setStatus({ code: api.SpanStatusCode.ERROR, message: outcome });
        span.end();
      };
    },
    shutdown: () => provider.shutdown(),
  };
}

/** Names only: the policy and issuer keys, the rule's name, the outcome and its reason. */
function attributesOf(o: DecisionOutcome): Record<string, string> {
  const d = o.decision;
  return {
    'claimcheck.decision': o.label,
    'claimcheck.reason': o.reason,
    ...(d?.policy ? { 'claimcheck.policy': d.policy.key } : {}),
    ...(d?.rule ? { 'claimcheck.rule': d.rule.name } : {}),
    ...(d?.verified ? { 'claimcheck.issuer': d.verified.issuer.key } : {}),
  };
}
