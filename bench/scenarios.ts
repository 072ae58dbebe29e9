/** What each benchmark row runs: which server, which requests, what answer to expect. */
import type { Alg } from './fixtures.js';

export type ServerKind =
  | { kind: 'noop' }
  /** the same no-op on claimcheck's own transport: the floor for claimcheck's rows */
  | { kind: 'noop-h2' }
  /** node:http answering 200: the baseline of the HTTP/1.1 rows */
  | { kind: 'noop-http1' }
  /** claimcheck's HTTP authorization listener with a constant allow: the floor for the forward-auth rows */
  | { kind: 'noop-authz-http' }
  /** tracing: OpenTelemetry on with this OTEL_TRACES_SAMPLER (and _ARG), exporting over OTLP/HTTP to a sink the run starts (bench/otlp-sink.mjs); introspection: the issuer introspects opaque tokens at a local endpoint the run starts (bench/introspection-endpoint.mjs); decryption: the issuer decrypts JWEs (an RSA key, bench/fixtures.ts); grpcServer: --grpc-server grpc-js (grpc-js's Server with claimcheck's codec); authzHttp: serve --authz-http-addr too; replayStore: --replay-store redis:// (a redis-server the run starts); identityToken: the first policy signs identity tokens (an ES256 key) */
  | { kind: 'claimcheck'; policies: 10 | 10000; workers?: number; grpcServer?: 'grpc-js'; authzHttp?: true; replayStore?: 'redis'; identityToken?: true; decryption?: true; introspection?: true; tracing?: { sampler: string; arg?: string } }
  | { kind: 'peer'; gomaxprocs: number };

export type Requests =
  /** one token, sent again and again; `encrypted`: as a JWE (RSA-OAEP-256 + A256GCM) for the issuer's decryption key; `opaque`: a random opaque token instead (alg unused) */
  | { tokens: 'repeated'; alg: Alg; path: string; encrypted?: true; opaque?: true }
  /** a distinct valid token per request: every request is a cache miss */
  | { tokens: 'pool'; alg: Alg; path: string; encrypted?: true; opaque?: true }
  /** one token signed by a key nobody trusts */
  | { tokens: 'forged'; path: string }
  /** one RS256 token bound to an ES256 key (cnf.jkt), a new DPoP proof every request (bench/dpop-fixtures.ts) */
  | { tokens: 'dpop'; path: string };

/** The key of a row's tokens in the runner's pools: signed with `alg`, encrypted or not. */
export const tokenSet = (r: { alg: Alg; encrypted?: true; opaque?: true }): string => (r.opaque ? 'opaque' : r.encrypted ? `${r.alg}+jwe` : r.alg);

export interface Scenario {
  id: string;
  title: string;
  server: ServerKind;
  requests: Requests;
  expect: 'allow' | 'deny';
  /** only the max-throughput phase, over the whole pool (the memory row) */
  memoryOnly?: boolean;
  /** HTTP/2 connections (more than one to spread over cluster workers) */
  connections?: number;
  /** Node/V8 flags for the claimcheck process */
  nodeArgs?: string[];
  /**
   * A second server loaded with the same requests in turn with this row's, so that a feature's
   * cost is a ratio of two servers measured in the same minute (row.against)
   */
  against?: ServerKind;
}

const MEMORY: Scenario = {
  id: 'memory',
  title: 'memory: 10,000 policies + every pool token cached',
  server: { kind: 'claimcheck', policies: 10000 },
  requests: { tokens: 'pool', alg: 'RS256', path: '/api/orders' },
  expect: 'allow',
  memoryOnly: true,
};

export const SCENARIOS: Scenario[] = [
  { id: 'baseline', title: 'no-op grpc-js server (baseline)', server: { kind: 'noop' }, requests: { tokens: 'repeated', alg: 'RS256', path: '/api/orders' }, expect: 'allow' },
  { id: 'transport', title: "no-op on claimcheck's gRPC transport (node:http2)", server: { kind: 'noop-h2' }, requests: { tokens: 'repeated', alg: 'RS256', path: '/api/orders' }, expect: 'allow' },
  { id: 'repeated', title: 'RS256, one token repeated', server: { kind: 'claimcheck', policies: 10 }, requests: { tokens: 'repeated', alg: 'RS256', path: '/api/orders' }, expect: 'allow' },
  { id: 'repeated-grpc-js', title: 'RS256, one token repeated, --grpc-server grpc-js', server: { kind: 'claimcheck', policies: 10, grpcServer: 'grpc-js' }, requests: { tokens: 'repeated', alg: 'RS256', path: '/api/orders' }, expect: 'allow' },
  { id: 'distinct', title: 'RS256, a new token every request', server: { kind: 'claimcheck', policies: 10 }, requests: { tokens: 'pool', alg: 'RS256', path: '/api/orders' }, expect: 'allow' },
  { id: 'es256', title: 'ES256, a new token every request', server: { kind: 'claimcheck', policies: 10 }, requests: { tokens: 'pool', alg: 'ES256', path: '/api/orders' }, expect: 'allow' },
  { id: 'eddsa', title: 'EdDSA, a new token every request', server: { kind: 'claimcheck', policies: 10 }, requests: { tokens: 'pool', alg: 'EdDSA', path: '/api/orders' }, expect: 'allow' },
  { id: 'dpop', title: 'DPoP: one bound RS256 token, a new ES256 proof every request (memory replay store)', server: { kind: 'claimcheck', policies: 10 }, requests: { tokens: 'dpop', path: '/api/orders' }, expect: 'allow' },
  { id: 'dpop-redis', title: 'DPoP as above, --replay-store redis:// (a local redis-server)', server: { kind: 'claimcheck', policies: 10, replayStore: 'redis' }, requests: { tokens: 'dpop', path: '/api/orders' }, expect: 'allow' },
  { id: 'jwe-repeated', title: 'JWE (RSA-OAEP-256 + A256GCM) around an RS256 token, one token repeated', server: { kind: 'claimcheck', policies: 10, decryption: true }, requests: { tokens: 'repeated', alg: 'RS256', path: '/api/orders', encrypted: true }, expect: 'allow' },
  { id: 'jwe-distinct', title: 'JWE (RSA-OAEP-256 + A256GCM) around an RS256 token, a new one every request', server: { kind: 'claimcheck', policies: 10, decryption: true }, requests: { tokens: 'pool', alg: 'RS256', path: '/api/orders', encrypted: true }, expect: 'allow' },
  { id: 'opaque-repeated', title: 'opaque token (introspection, a local endpoint), one token repeated', server: { kind: 'claimcheck', policies: 10, introspection: true }, requests: { tokens: 'repeated', alg: 'RS256', path: '/api/orders', opaque: true }, expect: 'allow' },
  { id: 'opaque-distinct', title: 'opaque token (introspection, a local endpoint), a new one every request', server: { kind: 'claimcheck', policies: 10, introspection: true }, requests: { tokens: 'pool', alg: 'RS256', path: '/api/orders', opaque: true }, expect: 'allow' },
  { id: 'tracing-100', title: 'RS256, one token repeated, tracing on, every Check sampled (OTLP/HTTP)', server: { kind: 'claimcheck', policies: 10, tracing: { sampler: 'always_on' } }, requests: { tokens: 'repeated', alg: 'RS256', path: '/api/orders' }, expect: 'allow', against: { kind: 'claimcheck', policies: 10 } },
  { id: 'tracing-1', title: 'RS256, one token repeated, tracing on, 1% of Checks sampled', server: { kind: 'claimcheck', policies: 10, tracing: { sampler: 'traceidratio', arg: '0.01' } }, requests: { tokens: 'repeated', alg: 'RS256', path: '/api/orders' }, expect: 'allow', against: { kind: 'claimcheck', policies: 10 } },
  { id: 'identity-repeated', title: 'RS256, one token repeated, identity.token (ES256)', server: { kind: 'claimcheck', policies: 10, identityToken: true }, requests: { tokens: 'repeated', alg: 'RS256', path: '/api/orders' }, expect: 'allow', against: { kind: 'claimcheck', policies: 10 } },
  { id: 'identity-distinct', title: 'RS256, a new token every request, identity.token (ES256)', server: { kind: 'claimcheck', policies: 10, identityToken: true }, requests: { tokens: 'pool', alg: 'RS256', path: '/api/orders' }, expect: 'allow', against: { kind: 'claimcheck', policies: 10 } },
  { id: 'claims', title: 'rule with scopes + 3 claim checks', server: { kind: 'claimcheck', policies: 10 }, requests: { tokens: 'repeated', alg: 'RS256', path: '/claims/orders' }, expect: 'allow' },
  { id: 'cel-rule', title: 'rule with scopes + a CEL condition (the 3 claim checks, a path and a header test)', server: { kind: 'claimcheck', policies: 10 }, requests: { tokens: 'repeated', alg: 'RS256', path: '/cel/orders' }, expect: 'allow' },
  { id: 'policies10k', title: '10,000 policies, one token repeated', server: { kind: 'claimcheck', policies: 10000 }, requests: { tokens: 'repeated', alg: 'RS256', path: '/api/orders' }, expect: 'allow' },
  { id: 'forged', title: 'flood of one forged token (bad signature)', server: { kind: 'claimcheck', policies: 10 }, requests: { tokens: 'forged', path: '/api/orders' }, expect: 'deny' },
  { id: 'peer', title: 'peer: OPA + Rego, one token repeated', server: { kind: 'peer', gomaxprocs: 1 }, requests: { tokens: 'repeated', alg: 'RS256', path: '/api/orders' }, expect: 'allow' },
  { id: 'peer-distinct', title: 'peer: OPA + Rego, a new token every request', server: { kind: 'peer', gomaxprocs: 1 }, requests: { tokens: 'pool', alg: 'RS256', path: '/api/orders' }, expect: 'allow' },
  { id: 'workers2', title: 'RS256 repeated, --workers 2 (2 connections)', server: { kind: 'claimcheck', policies: 10, workers: 2 }, requests: { tokens: 'repeated', alg: 'RS256', path: '/api/orders' }, expect: 'allow', connections: 2 },
  MEMORY,
  // what the Helm chart runs: server.maxHeapMiB 160 and server.maxSemiSpaceMiB 8 become NODE_OPTIONS
  { ...MEMORY, id: 'memory-chart', title: 'memory, as the chart runs it (--max-old-space-size=160 --max-semi-space-size=8)', nodeArgs: ['--max-old-space-size=160', '--max-semi-space-size=8'] },
];

/** The forward-auth rows (bench/http-rows.ts): HTTP/1.1 keep-alive, each against a no-op node:http server beside it. */
export const HTTP_SCENARIOS: Scenario[] = [
  { id: 'http-baseline', title: 'no-op node:http server, HTTP/1.1 keep-alive (baseline)', server: { kind: 'noop-http1' }, requests: { tokens: 'repeated', alg: 'RS256', path: '/api/orders' }, expect: 'allow' },
  { id: 'http-listener', title: "no-op on claimcheck's HTTP listener (a constant allow)", server: { kind: 'noop-authz-http' }, requests: { tokens: 'repeated', alg: 'RS256', path: '/api/orders' }, expect: 'allow' },
  { id: 'http-repeated', title: 'forward-auth repeated token', server: { kind: 'claimcheck', policies: 10, authzHttp: true }, requests: { tokens: 'repeated', alg: 'RS256', path: '/api/orders' }, expect: 'allow' },
  { id: 'http-distinct', title: 'forward-auth new RS256 token', server: { kind: 'claimcheck', policies: 10, authzHttp: true }, requests: { tokens: 'pool', alg: 'RS256', path: '/api/orders' }, expect: 'allow' },
];

/** The fixed rate of the latency phase: half the first baseline's maximum. */
/** How long each phase of a row runs (seconds), or how many tokens of a pool it sends. */
export interface Phases {
  warmSec: number;
  maxSec: number;
  fixedSec: number;
  poolWarm: number;
  poolMax: number;
  poolFixedCap: number;
}

/** A load run's length: a duration, or a number of requests (pool rows send each token once). */
export type RunLength = { durationSec: number } | { total: number };

export function fixedRateFor(baselineRps: number): number {
  return Math.max(100, Math.round(baselineRps / 2 / 100) * 100);
}
