/**
 * Bounds that were constants, as flags with the old values as defaults and a range each
 * (docs/operations.md "Limits"). The key-fetch ones reach the KeyRegistry, the CEL one every
 * compile of the configuration.
 */
import { withDefault } from './flag.js';
import { durationInRange, intInRange } from './flag-values.js';

const SERVE_CHECK = ['serve', 'check'] as const;

export const LIMIT_FLAGS = {
  'key-fetch-wait': withDefault(SERVE_CHECK, '150ms', durationInRange(1, 10_000, ['1ms', '10s']), {
    value: 'DURATION',
    help: 'longest a Check waits for a key fetch or introspection in flight before a 503',
    doc: 'longest a Check waits for a JWKS fetch, a discovery or an introspection already in flight; then it is answered 503 and the fetch goes on for the next request. Keep it below Envoy\'s ext_authz timeout (200 ms by default), so that the client gets claimcheck\'s 503 and not Envoy\'s timeout (1ms to 10s)',
  }),
  'key-fetch-timeout': withDefault(SERVE_CHECK, '5s', durationInRange(100, 60_000, ['100ms', '60s']), {
    value: 'DURATION',
    help: 'one JWKS, discovery or introspection request gives up after this long',
    doc: 'one JWKS, discovery or introspection request gives up after this long, and counts as `timeout` (100ms to 60s)',
  }),
  'jwks-max-bytes': withDefault(SERVE_CHECK, '524288', intInRange(1024, 16 * 1024 * 1024), {
    value: 'BYTES',
    help: 'a JWKS or discovery document larger than this is a failed fetch',
    doc: 'a JWKS or discovery document larger than this (by Content-Length or as read) is a failed fetch (`too_large`); the default is 512 KiB (1024 to 16777216)',
  }),
  'jwks-max-keys': withDefault(SERVE_CHECK, '100', intInRange(1, 10_000), {
    value: 'N',
    help: 'a JWKS with more keys is refused as a whole',
    doc: 'a JWKS with more keys is refused as a whole (`too_many_keys`), and the last good keys stay (1 to 10000)',
  }),
  'discovery-refresh-interval': withDefault(SERVE_CHECK, '1h', durationInRange(60_000, 86_400_000, ['1m', '24h']), {
    value: 'DURATION',
    help: 'how often the OIDC discovery document (jwks.discovery) is read again',
    doc: 'how often an issuer\'s OIDC discovery document (`jwks.discovery: true`) is read again, to follow a changed `jwks_uri`; a failed JWKS fetch reads it again sooner (1m to 24h)',
  }),
  'cel-cost-limit': withDefault(['serve', 'check', 'validate', 'test'], '50000', intInRange(100, 10_000_000), {
    value: 'UNITS',
    help: 'a CEL condition whose cost bound exceeds this is refused at load, or denied at evaluation',
    doc: 'a CEL condition whose cost bound exceeds this for empty inputs is refused when the configuration loads; one whose bound for the request\'s inputs exceeds it is denied (`condition_error`) without being evaluated ([cel.md](cel.md#cost-limit)). Give `check`, `validate` and `test` the same value as `serve` (100 to 10000000)',
  }),
} as const;

type Values = { readonly [K in keyof typeof LIMIT_FLAGS]: number };

export interface KeyLimits {
  coldWaitMs: number;
  fetchTimeoutMs: number;
  jwksMaxBytes: number;
  jwksMaxKeys: number;
  discoveryIntervalMs: number;
}

/** The KeyRegistry's share of the limits. */
export function keyLimitsOf(v: Values): Readonly<KeyLimits> {
  return Object.freeze({
    coldWaitMs: v['key-fetch-wait'],
    fetchTimeoutMs: v['key-fetch-timeout'],
    jwksMaxBytes: v['jwks-max-bytes'],
    jwksMaxKeys: v['jwks-max-keys'],
    discoveryIntervalMs: v['discovery-refresh-interval'],
  });
}
