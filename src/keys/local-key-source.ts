/** Keys from the configuration itself (inline) or a local secret (file path, or a Secret's content), re-read when they change. */
import { readFileSync, statSync } from 'node:fs';
import type { CompiledIssuer } from '../compile/snapshot.js';
import { ClaimcheckError } from '../errors.js';
import { parseJwks, parseKeyFile, type ParsedKeys } from './parse-jwks.js';

/** The content of a Secret the issuer names: `ref`, or by default its `jwks.secretRef`. */
export type SecretReader = (issuer: CompiledIssuer, ref?: { name?: string; key?: string }) => Buffer | undefined;

export type LocalSourceKind = 'inline' | 'file' | 'secret';

export class LocalKeySource {
  readonly kind: LocalSourceKind;
  /** stat identity of the file at the last successful read */
  private signature: string | undefined;
  private content: Buffer | undefined;
  private readOnce = false;

  constructor(private readonly issuer: CompiledIssuer, private readonly readSecret?: SecretReader) {
    const { jwks } = issuer;
    this.kind = jwks.inline ? 'inline' : jwks.secretPath !== undefined ? 'file' : 'secret';
  }

  /** Whether the source can change without a configuration change, and so is polled. */
  get changes(): boolean {
    return this.kind !== 'inline';
  }

  /**
   * The keys, or `unchanged` when the source holds what it held at the last successful read.
   * Error codes: jwks_source_unavailable, jwks_invalid, jwks_too_many_keys.
   */
  read(): ParsedKeys | 'unchanged' {
    const { jwks } = this.issuer;
    if (jwks.inline) {
      if (this.readOnce) return 'unchanged';
      // An inline set lives in a readable resource: symmetric keys are refused there too (HMAC secrets come only from secretRef).
      const parsed = parseJwks(jwks.inline, { symmetricAllowed: false });
      this.readOnce = true;
      return parsed;
    }
    if (jwks.secretPath !== undefined) return this.readFile(jwks.secretPath);
    if (jwks.secretRef) {
      const content = this.readSecret?.(this.issuer);
      if (!content) throw new ClaimcheckError('jwks_source_unavailable', 'secret not available');
      return this.accept(content, undefined);
    }
    throw new ClaimcheckError('jwks_source_unavailable', 'no key source configured');
  }

  private readFile(path: string): ParsedKeys | 'unchanged' {
    let read: ReturnType<typeof readIfChanged>;
    try {
      read = readIfChanged(path, this.signature);
    } catch (err) {
      throw new ClaimcheckError('jwks_source_unavailable', 'key file unreadable', { cause: err });
    }
    return read === 'unchanged' ? read : this.accept(read.content, read.signature);
  }

  /** The keys just read could not be used: read the source again next time even if it has not changed. */
  forget(): void {
    this.signature = undefined;
    this.content = undefined;
    this.readOnce = false;
  }

  /** Records the content only once it parsed: a half-written or broken file is tried again on the next poll. */
  private accept(content: Buffer, signature: string | undefined): ParsedKeys | 'unchanged' {
    if (this.content && content.equals(this.content)) {
      this.signature = signature;
      return 'unchanged';
    }
    const parsed = parseKeyFile(content);
    this.content = content;
    this.signature = signature;
    return parsed;
  }
}

/**
 * A polled key file's content, or `unchanged` while its stat identity is still `signature`;
 * throws what node:fs throws. The stat comes before the read: a write that lands after the read
 * changes the signature and is read next time. statSync follows symlinks, so a Kubernetes
 * Secret volume's ..data swap shows as a new inode.
 */
export function readIfChanged(path: string, signature: string | undefined): { signature: string; content: Buffer } | 'unchanged' {
  const st = statSync(path);
  const now = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
  return now === signature ? 'unchanged' : { signature: now, content: readFileSync(path) };
}
