/**
 * One issuer's decryption keys (TrustedIssuer `decryption.secretRef`), read at start and
 * re-read every poll when the file or Secret changed, like `jwks.secretRef`. Bad content keeps
 * the last good keys and is logged once per distinct problem; nothing about a key but its
 * kid is ever logged.
 */
import type { CompiledIssuer } from '../compile/snapshot.js';
import { KEYS_UNAVAILABLE } from '../authn/invalid.js';
import { ClaimcheckError } from '../errors.js';
import type { Logger } from '../telemetry/logger.js';
import type { Decrypted, VerifyFailure } from '../authn/types.js';
import { decryptToken, type DecryptionKey } from './decrypt-token.js';
import { parseDecryptionKeys } from './decryption-keys.js';
import { readIfChanged, type SecretReader } from './local-key-source.js';
import { SingleTimer, type Scheduler } from './scheduler.js';

export interface KeyRingOptions {
  logger: Logger;
  scheduler: Scheduler;
  sourcePollMs: number;
  readSecret?: SecretReader;
}

export class DecryptionKeyRing {
  readonly fingerprint: string;
  private keys: readonly DecryptionKey[] | undefined;
  private signature: string | undefined;
  private content: Buffer | undefined;
  private lastProblem: string | undefined;
  private readonly timer: SingleTimer;
  private closed = false;

  constructor(private issuer: CompiledIssuer, private readonly opts: KeyRingOptions) {
    this.fingerprint = issuer.decryption!.fingerprint;
    this.timer = new SingleTimer(opts.scheduler);
    this.load();
  }

  /** A new snapshot's issuer with the same decryption settings: its allow-lists are the same too. */
  update(issuer: CompiledIssuer): void {
    this.issuer = issuer;
  }

  decrypt(token: string): Promise<Decrypted | VerifyFailure> | VerifyFailure {
    // configured but never readable: "cannot decide", a 503 like missing signature keys
    if (!this.keys) return KEYS_UNAVAILABLE;
    return decryptToken(token, this.issuer.decryption!, this.keys);
  }

  close(): void {
    this.closed = true;
    this.timer.clear();
  }

  private load(): void {
    if (this.closed) return;
    try {
      const content = this.read();
      if (content && !(this.content && content.equals(this.content))) {
        const keys = parseDecryptionKeys(content);
        const first = this.keys === undefined;
        this.keys = keys;
        this.content = content;
        this.lastProblem = undefined;
        const kids = keys.flatMap((k) => (k.kid === undefined ? [] : [k.kid]));
        this.opts.logger.info({ issuer: this.issuer.key, keys: keys.length, kids }, first ? 'decryption keys loaded' : 'decryption keys changed');
      }
    } catch (err) {
      this.signature = undefined;
      const message = err instanceof ClaimcheckError ? err.message : 'unreadable';
      if (message !== this.lastProblem) {
        this.lastProblem = message;
        this.opts.logger.error({ issuer: this.issuer.key, problem: message, keeping: this.keys ? 'last good keys' : 'none' }, 'decryption keys not usable');
      }
    }
    this.timer.set(this.opts.sourcePollMs, () => this.load());
  }

  /** The content when it may have changed, undefined when it has not. */
  private read(): Buffer | undefined {
    const d = this.issuer.decryption!;
    if (d.secretPath !== undefined) {
      let read: ReturnType<typeof readIfChanged>;
      try {
        read = readIfChanged(d.secretPath, this.signature);
      } catch (err) {
        throw new ClaimcheckError('decryption_keys_unavailable', 'key file unreadable', { cause: err });
      }
      if (read === 'unchanged') return undefined;
      this.signature = read.signature;
      return read.content;
    }
    const content = d.secretRef ? this.opts.readSecret?.(this.issuer, d.secretRef) : undefined;
    if (!content) throw new ClaimcheckError('decryption_keys_unavailable', 'secret not available');
    return content;
  }
}
