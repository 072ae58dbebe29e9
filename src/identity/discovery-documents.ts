/**
 * What another claimcheck, or any JWT library, needs to trust the identity tokens: an OpenID
 * discovery document (OpenID Connect Discovery 1.0 §3, with only what a verifier reads) and the
 * JWKS of every key in the directory, public members only.
 */
import type { KeyState } from './key-directory.js';

export interface IdentityDocuments {
  /** the path prefix of the issuer URL ('' or '/mesh'): documents are served under it and at the root */
  readonly pathPrefix: string;
  discovery(): string;
  jwks(): string;
}

export function identityDocuments(issuer: string, keys: () => KeyState): IdentityDocuments {
  const base = issuer.replace(/\/+$/, '');
  const pathPrefix = new URL(base).pathname.replace(/\/+$/, '');
  let cached: { version: number; discovery: string; jwks: string } | undefined;
  const build = () => {
    const state = keys();
    if (cached?.version !== state.version) {
      const algs = [...new Set(state.keys.map((k) => k.alg))];
      cached = {
        version: state.version,
        discovery: JSON.stringify({ issuer, jwks_uri: `${base}/.well-known/jwks.json`, id_token_signing_alg_values_supported: algs }),
        jwks: JSON.stringify({ keys: state.keys.map((k) => k.publicJwk) }),
      };
    }
    return cached;
  };
  return { pathPrefix, discovery: () => build().discovery, jwks: () => build().jwks };
}
