/** The two remote documents of a key source: OIDC discovery (→ jwks_uri) and the JWKS itself. */
import { ClaimcheckError } from '../errors.js';
import type { CompiledIssuer } from '../compile/snapshot.js';
import { fetchJson, type FetchedJson } from './fetch-json.js';
import { parseJwks, type ParsedKeys } from './parse-jwks.js';

export function isRemote(issuer: CompiledIssuer): boolean {
  return issuer.jwks.uri !== undefined || issuer.jwks.discovery;
}

/** --key-fetch-timeout, --jwks-max-bytes, --jwks-max-keys (docs/keys.md "Limits") */
export interface DocumentLimits {
  timeoutMs: number;
  maxBytes: number;
  maxKeys: number;
}

/** Both documents are fetched under the same rules: the issuer's caBundle only, http:// only when allowed. */
function fetchFor(issuer: CompiledIssuer, url: string, limits: DocumentLimits): Promise<FetchedJson> {
  return fetchJson(url, {
    ...(issuer.jwks.caBundle !== undefined ? { caBundle: issuer.jwks.caBundle } : {}),
    allowInsecureHttp: issuer.jwks.allowInsecureHttp,
    timeoutMs: limits.timeoutMs,
    maxBytes: limits.maxBytes,
  });
}

/**
 * OIDC Discovery 1.0 §4: the configuration lives at {issuer}/.well-known/openid-configuration
 * (a trailing slash of the issuer removed), and §4.3: its `issuer` must equal ours exactly, or an
 * attacker-controlled document could point us at its own keys.
 * Error codes: those of fetchJson, discovery_invalid, discovery_issuer_mismatch.
 */
export async function discoverJwksUri(issuer: CompiledIssuer, limits: DocumentLimits): Promise<string> {
  const base = issuer.issuer.replace(/\/$/, '');
  const { body } = await fetchFor(issuer, `${base}/.well-known/openid-configuration`, limits);
  const doc = body as { issuer?: unknown; jwks_uri?: unknown } | null;
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new ClaimcheckError('discovery_invalid', 'discovery document is not an object');
  }
  if (doc.issuer !== issuer.issuer) throw new ClaimcheckError('discovery_issuer_mismatch', 'discovery issuer does not match');
  if (typeof doc.jwks_uri !== 'string') throw new ClaimcheckError('discovery_invalid', 'discovery document has no jwks_uri');
  return doc.jwks_uri;
}

/** Error codes: those of fetchJson, jwks_invalid, jwks_too_many_keys. */
export async function fetchJwks(issuer: CompiledIssuer, jwksUri: string, limits: DocumentLimits): Promise<{ parsed: ParsedKeys; maxAgeSec?: number }> {
  const { body, maxAgeSec } = await fetchFor(issuer, jwksUri, limits);
  // A remote set never carries symmetric keys: anyone who can read it could forge tokens.
  return { parsed: parseJwks(body, { symmetricAllowed: false, maxKeys: limits.maxKeys }), ...(maxAgeSec !== undefined ? { maxAgeSec } : {}) };
}
