/**
 * The key set of an issuer with `introspection` and no `jwks`: it accepts opaque tokens only, so
 * a JWT naming it is `no_matching_key` (401), never a 503 while "keys load". Always ready: there
 * is nothing to load, and /readyz must not wait on it.
 */
import type { KeyLookupResult } from '../authn/types.js';
import type { CompiledIssuer } from '../compile/snapshot.js';
import { invalid } from '../authn/invalid.js';
import type { KeySet } from './key-set.js';
import type { KeySetSample, KeySetStatus } from './key-set-health.js';

const NO_KEY: KeyLookupResult = Object.freeze(invalid('no_matching_key'));

export class NoKeySet implements KeySet {
  readonly ready = Promise.resolve();
  readonly fingerprint: string;
  private readonly issuerKey: string;

  constructor(issuer: CompiledIssuer) {
    this.fingerprint = issuer.keysFingerprint;
    this.issuerKey = issuer.key;
  }

  update(): void {}

  resolve(): KeyLookupResult {
    return NO_KEY;
  }

  /** constant: the refusal may be cached like any other */
  keysVersion(): number {
    return 0;
  }

  status(): KeySetStatus {
    return { issuer: this.issuerKey, source: 'none', state: 'fresh', ready: true, keyCount: 0, keyIds: [], staleSeconds: 0, stale: false, failures: 0 };
  }

  sample(): KeySetSample {
    return { issuer: this.issuerKey, ready: true, keyCount: 0, staleSeconds: 0 };
  }

  idle(): Promise<void> {
    return this.ready;
  }

  close(): void {}
}
