/** Keys from the manifest (inline) or from a key file or Secret (secretRef), which is polled for changes. */
import type { CompiledIssuer } from '../compile/snapshot.js';
import { IssuerKeySet } from './issuer-key-set.js';
import type { KeySetOptions } from './key-set.js';
import type { KeySetStatus } from './key-set-health.js';
import { LocalKeySource } from './local-key-source.js';

export class LocalKeySet extends IssuerKeySet {
  readonly ready: Promise<void>;
  private readonly source: LocalKeySource;

  constructor(issuer: CompiledIssuer, opts: KeySetOptions) {
    // No maxStaleness: no one else rotates a local source, so its last good keys never expire (docs/keys.md).
    super(issuer, opts, undefined);
    this.source = new LocalKeySource(issuer, opts.readSecret);
    this.ready = this.load();
  }

  /** Read at start, then polled; an unchanged source only confirms the keys. */
  protected async loadOnce(): Promise<void> {
    this.health.attempted(this.scheduler.now());
    try {
      const read = this.source.read();
      if (read !== 'unchanged') {
        const prepared = await this.prepare(read);
        if (this.closed) return;
        this.commit(prepared);
      } else if (this.keys) {
        this.confirm();
      }
    } catch (err) {
      if (this.closed) return;
      this.source.forget();
      this.fail(err);
    }
    if (this.source.changes) this.scheduleLoad(this.opts.sourcePollMs);
  }

  protected awaitUsableKeys(): Promise<void> {
    return this.ready;
  }

  /** A local source changes on its own and is seen at the next poll; a token cannot make it change sooner. */
  protected loadForUnknownKid(): undefined {
    return undefined;
  }

  protected noteUse(): void {}

  protected describeSource(): Pick<KeySetStatus, 'source'> {
    return { source: this.source.kind };
  }
}
