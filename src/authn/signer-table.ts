/**
 * What verified a cached token (token-cache.ts): a handful of signers shared by up to 100,000
 * entries, numbered so the verdict table can hold a number instead of an object.
 */
import type { CompiledIssuer } from '../compile/snapshot.js';
import type { KeyLookup } from './types.js';

export interface Signer {
  alg: string;
  kid: string | undefined;
  issuerKey: string;
  fingerprint: string;
  keysVersion: number;
}

const MAX_SIGNERS = 1000;

export class SignerTable {
  /** signer key -> index into list */
  private readonly index = new Map<string, number>();
  private list: Signer[] = [];

  /** `onReset`: the table was full and starts again; numbers handed out before mean nothing now */
  constructor(private readonly onReset: () => void) {}

  at(n: number): Signer | undefined {
    return this.list[n];
  }

  numberOf(s: Signer): number {
    const key = `${s.issuerKey}\0${s.keysVersion}\0${s.alg}\0${s.kid ?? ''}\0${s.kid === undefined ? 0 : 1}`;
    const known = this.index.get(key);
    if (known !== undefined && this.list[known]!.fingerprint === s.fingerprint) return known;
    if (this.list.length >= MAX_SIGNERS) {
      this.onReset();
      this.clear();
    }
    this.index.set(key, this.list.length);
    this.list.push(s);
    return this.list.length - 1;
  }

  clear(): void {
    this.index.clear();
    this.list = [];
  }
}

/** The candidate that verified a cached token, if it still would: same issuer, settings and keys. */
export function currentIssuer(s: Signer, candidates: readonly CompiledIssuer[], keys: KeyLookup): CompiledIssuer | undefined {
  for (const c of candidates) {
    if (c.key === s.issuerKey) return c.fingerprint === s.fingerprint && keys.keysVersion!(c) === s.keysVersion ? c : undefined;
  }
  return undefined;
}
