/** TrustedIssuer `introspection` (docs/token-formats.md), compiled for keys/introspection-client.ts. */
import { tryParseDuration } from '../model/duration.js';
import type { TrustedIssuer } from '../model/types.js';
import { manifestRelative, type CompileContext } from './context.js';
import { fingerprintOf } from './fingerprint.js';
import type { CompiledIntrospection } from './snapshot.js';

const MAX_CACHE_TTL_MS = 3600_000;

export function compileIntrospection(r: TrustedIssuer, ctx: CompileContext): CompiledIntrospection | undefined {
  const spec = r.spec.introspection;
  if (!spec) return undefined;
  const base = '/spec/introspection';
  const allowInsecureHttp = spec.allowInsecureHttp === true;
  let url: URL | undefined;
  try {
    url = new URL(spec.endpoint);
  } catch {
    ctx.problem(r, `${base}/endpoint`, `endpoint ${JSON.stringify(spec.endpoint)} is not an absolute URL`);
  }
  if (url && url.protocol !== 'https:' && !(url.protocol === 'http:' && allowInsecureHttp)) {
    ctx.problem(r, `${base}/endpoint`, url.protocol === 'http:' ? 'endpoint uses http://; set introspection.allowInsecureHttp: true to allow it (tokens and the client secret would travel in clear)' : 'endpoint must be an https:// URL');
  }
  if (allowInsecureHttp) ctx.warning(r, `${base}/allowInsecureHttp`, 'allowInsecureHttp: tokens and the client secret may be sent over plain http://');
  const ttlMs = tryParseDuration(spec.cacheTTL ?? '60s');
  if (ttlMs === undefined) ctx.problem(r, `${base}/cacheTTL`, `invalid duration ${JSON.stringify(spec.cacheTTL)}`);
  else if (ttlMs > MAX_CACHE_TTL_MS) ctx.problem(r, `${base}/cacheTTL`, `cacheTTL ${spec.cacheTTL} is above the maximum of 1h`);
  if (spec.caBundle !== undefined && !/-----BEGIN CERTIFICATE-----/.test(spec.caBundle)) ctx.problem(r, `${base}/caBundle`, 'caBundle holds no PEM certificate');
  const ref = spec.clientKeyRef ?? spec.clientSecretRef ?? {};
  if (spec.clientAssertionAudience !== undefined && !spec.clientKeyRef) ctx.problem(r, `${base}/clientAssertionAudience`, 'clientAssertionAudience applies to clientKeyRef (private_key_jwt) only');
  const out = {
    endpoint: spec.endpoint,
    clientId: spec.clientId,
    clientAuth: spec.clientKeyRef ? ('private_key_jwt' as const) : ('client_secret_basic' as const),
    assertionAudience: spec.clientAssertionAudience ?? spec.endpoint,
    ...(ref.name !== undefined ? { secretRef: { name: ref.name, ...(ref.key !== undefined ? { key: ref.key } : {}) } } : {}),
    ...(ref.path !== undefined ? { secretPath: manifestRelative(r, ref.path) } : {}),
    cacheTtlSec: (ttlMs ?? 0) / 1000,
    ...(spec.caBundle !== undefined ? { caBundle: spec.caBundle } : {}),
    allowInsecureHttp,
  };
  return Object.freeze({ ...out, fingerprint: fingerprintOf(out) });
}
