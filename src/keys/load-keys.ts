/** Load an issuer's key material from its configured source: inline, local file, JWKS URI or OIDC discovery. */
import { readFileSync } from 'node:fs';
import { ClaimcheckError } from '../errors.js';
import type { CompiledIssuer } from '../compile/snapshot.js';
import { fetchJson } from './fetch-json.js';
import { parseJwks, parseKeyFile, type ParsedKeys } from './parse-jwks.js';

export type SecretReader = (issuer: CompiledIssuer) => Buffer | undefined;

export function isRemote(issuer: CompiledIssuer): boolean {
  return issuer.jwks.uri !== undefined || issuer.jwks.discovery;
}

/** Static sources (inline, secret file) are read once per key set. Error code: jwks_source_unavailable, jwks_invalid. */
export function loadStaticKeys(issuer: CompiledIssuer, readSecret?: SecretReader): ParsedKeys {
  const { jwks } = issuer;
  // An inline set lives in a readable resource: symmetric keys are refused there too (api.md: HMAC secrets only in secretRef).
  if (jwks.inline) return parseJwks(jwks.inline, { symmetricAllowed: false });
  if (jwks.secretPath !== undefined) {
    let content: Buffer;
    try {
      content = readFileSync(jwks.secretPath);
    } catch (err) {
      throw new ClaimcheckError('jwks_source_unavailable', 'key file unreadable', { cause: err });
    }
    return parseKeyFile(content);
  }
  if (jwks.secretRef) {
    const content = readSecret?.(issuer);
    if (!content) throw new ClaimcheckError('jwks_source_unavailable', 'secret not available');
    return parseKeyFile(content);
  }
  throw new ClaimcheckError('jwks_source_unavailable', 'no key source configured');
}

export interface RemoteKeys {
  parsed: ParsedKeys;
  maxAgeSec?: number;
  jwksUri: string;
}

/**
 * OIDC Discovery 1.0 §4: the configuration lives at {issuer}/.well-known/openid-configuration
 * (a trailing slash of the issuer removed), and §4.3: its `issuer` must equal ours exactly, or an
 * attacker-controlled document could point us at its own keys.
 */
export async function discoverJwksUri(issuer: CompiledIssuer, timeoutMs: number): Promise<string> {
  const base = issuer.issuer.replace(/\/$/, '');
  const { body } = await fetchJson(`${base}/.well-known/openid-configuration`, {
    caBundle: issuer.jwks.caBundle,
    allowInsecureHttp: issuer.jwks.allowInsecureHttp,
    timeoutMs,
  });
  const doc = body as { issuer?: unknown; jwks_uri?: unknown } | null;
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new ClaimcheckError('discovery_invalid', 'discovery document is not an object');
  }
  if (doc.issuer !== issuer.issuer) throw new ClaimcheckError('discovery_issuer_mismatch', 'discovery issuer does not match');
  if (typeof doc.jwks_uri !== 'string') throw new ClaimcheckError('discovery_invalid', 'discovery document has no jwks_uri');
  return doc.jwks_uri;
}

export async function loadRemoteKeys(issuer: CompiledIssuer, timeoutMs: number, knownJwksUri?: string): Promise<RemoteKeys> {
  const jwksUri = issuer.jwks.uri ?? knownJwksUri ?? (await discoverJwksUri(issuer, timeoutMs));
  const { body, maxAgeSec } = await fetchJson(jwksUri, {
    caBundle: issuer.jwks.caBundle,
    allowInsecureHttp: issuer.jwks.allowInsecureHttp,
    timeoutMs,
  });
  return { parsed: parseJwks(body, { symmetricAllowed: false }), ...(maxAgeSec !== undefined ? { maxAgeSec } : {}), jwksUri };
}
