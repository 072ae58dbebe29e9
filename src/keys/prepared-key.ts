/** A usable JWK with its imported forms cached per algorithm: import once, never per request. */
import { KeyObject, createSecretKey } from 'node:crypto';
import { importJWK } from 'jose';
import type { VerificationKey } from '../authn/types.js';
import type { Jwk } from '../model/types.js';
import { keyFitsAlg } from './key-filter.js';

export class PreparedKey {
  readonly kid: string | undefined;
  private readonly imports = new Map<string, Promise<VerificationKey | undefined>>();

  constructor(readonly jwk: Jwk) {
    this.kid = typeof jwk.kid === 'string' ? jwk.kid : undefined;
  }

  fits(alg: string): boolean {
    return keyFitsAlg(this.jwk, alg);
  }

  /** The imported key for `alg`, or undefined when the key cannot be imported for it. */
  importFor(alg: string): Promise<VerificationKey | undefined> {
    let p = this.imports.get(alg);
    if (!p) {
      // jose reads `alg` from the argument; `use`/`key_ops` were checked by the filter.
      const { alg: _ignored, ...jwk } = this.jwk;
      // jose validates and imports; the KeyObject is what authn/verify-signature.ts checks with.
      p = importJWK(jwk as Parameters<typeof importJWK>[0], alg, { extractable: false }).then(
        (k) => (k instanceof Uint8Array ? createSecretKey(k) : KeyObject.from(k)),
        () => undefined,
      );
      this.imports.set(alg, p);
    }
    return p;
  }
}

/**
 * Import every key for each of the issuer's algorithms it fits, so a broken key is found at
 * load rather than at the first request. A key that fits some algorithm but imports for none is dropped.
 */
export async function prepareKeys(jwks: readonly Jwk[], algorithms: readonly string[]): Promise<{ keys: PreparedKey[]; dropped: number }> {
  const keys: PreparedKey[] = [];
  let dropped = 0;
  await Promise.all(
    jwks.map(async (jwk, i) => {
      const key = new PreparedKey(jwk);
      const algs = algorithms.filter((a) => key.fits(a));
      const imported = await Promise.all(algs.map((a) => key.importFor(a)));
      if (algs.length > 0 && imported.every((k) => k === undefined)) dropped++;
      else keys[i] = key;
    }),
  );
  return { keys: keys.filter((k) => k !== undefined), dropped };
}
