/** A JWKS over HTTPS (jwks.uri or OIDC discovery): first load, scheduled refresh, unknown-kid refetch, retries, maxStaleness. */
import type { CompiledIssuer } from '../compile/snapshot.js';
import { IssuerKeySet } from './issuer-key-set.js';
import type { KeySetOptions } from './key-set.js';
import type { KeySetStatus } from './key-set-health.js';
import { refreshDelayMs, retryDelayMs } from './refresh-timing.js';
import { RemoteKeySource } from './remote-key-source.js';
import { SingleTimer } from './scheduler.js';

export class RemoteKeySet extends IssuerKeySet {
  readonly ready: Promise<void>;
  private readonly source: RemoteKeySource;
  /** fires when the keys pass maxStaleness, so that the change to `expired` is logged when it happens */
  private readonly staleness: SingleTimer;

  constructor(issuer: CompiledIssuer, opts: KeySetOptions) {
    super(issuer, opts, issuer.jwks.maxStalenessMs);
    this.source = new RemoteKeySource(opts);
    this.staleness = new SingleTimer(opts.scheduler);
    this.ready = this.load();
  }

  override close(): void {
    super.close();
    this.staleness.clear();
  }

  protected async loadOnce(): Promise<void> {
    const issuer = this.issuer;
    this.health.attempted(this.scheduler.now());
    let delay: number;
    try {
      const { value, maxAgeSec } = await this.source.load(issuer, (parsed) => this.prepare(parsed));
      if (this.closed) return;
      this.commit(value);
      this.watchStaleness();
      delay = refreshDelayMs(issuer.jwks, maxAgeSec);
    } catch (err) {
      if (this.closed) return;
      this.fail(err);
      delay = retryDelayMs(issuer.jwks, this.health.failures);
    }
    this.scheduleLoad(delay);
  }

  protected awaitUsableKeys(now: number): Promise<void> {
    return this.loadUnlessCoolingDown(now);
  }

  /** Rotation: an unknown kid may be a new key. At most one refetch per cooldown, shared by all callers. */
  protected loadForUnknownKid(now: number): Promise<void> {
    return this.loadUnlessCoolingDown(now);
  }

  protected noteUse(now: number): void {
    // Timers may lag (a suspended process, a busy event loop): a due refresh also starts from here, in the background.
    if (now >= this.nextLoadAtMs) void this.loadUnlessCoolingDown(now);
  }

  protected describeSource(): Pick<KeySetStatus, 'source' | 'jwksUri'> {
    const { uri, discovery } = this.issuer.jwks;
    const jwksUri = discovery && !uri ? this.source.currentJwksUri : undefined;
    return { source: uri ? 'uri' : 'discovery', ...(jwksUri !== undefined ? { jwksUri } : {}) };
  }

  /** The load in flight, else a new one unless the last one started within minRefreshInterval. */
  private loadUnlessCoolingDown(now: number): Promise<void> {
    const inFlight = this.loadInFlight;
    if (inFlight) return inFlight;
    const cooldown = this.issuer.jwks.minRefreshIntervalMs;
    if (this.lastLoadStartMs !== undefined && now - this.lastLoadStartMs < cooldown) return Promise.resolve();
    return this.load();
  }

  private watchStaleness(): void {
    const until = this.health.freshUntilMs();
    if (until === undefined || this.closed) return;
    // 'expired' begins once now > until; a timer that fires early (clamped, or a ms ahead) is set again.
    this.staleness.set(until + 1 - this.scheduler.now(), () => {
      this.health.record(this.scheduler.now(), true);
      if (this.usable(this.scheduler.now())) this.watchStaleness();
    });
  }
}
