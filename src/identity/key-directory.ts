/**
 * --identity-key-dir, watched: every key file is read at start and again when it changes
 * (polled every second, which sees a Kubernetes Secret's symlink swap as well as an edit), so
 * a new key is published within 2 s. A file that cannot be used is logged by name and reason
 * and its last good key, if any, stays; key material never reaches a log line.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../telemetry/logger.js';
import { isKeyFileName, readSigningKey, type SigningKey } from './signing-key.js';

export const KEY_POLL_MS = 1_000;

export interface KeyState {
  /** every usable key, ordered by file name: what the JWKS publishes */
  readonly keys: readonly SigningKey[];
  /** the key that signs; undefined: none usable (identity tokens are refused with a 503) */
  readonly signer?: SigningKey;
  /** changes whenever keys or signer change */
  readonly version: number;
}

interface FileEntry {
  stamp: string;
  key?: SigningKey;
}

export class IdentityKeyDirectory {
  private readonly files = new Map<string, FileEntry>();
  private state: KeyState = { keys: [], version: 0 };
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;

  constructor(private readonly opts: { dir: string; signingKid?: string; logger: Logger; pollMs?: number }) {}

  get current(): KeyState {
    return this.state;
  }

  /** Reads the directory once, then keeps watching it. */
  async start(): Promise<void> {
    await this.poll();
    this.timer = setInterval(() => void this.poll(), this.opts.pollMs ?? KEY_POLL_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One look at the directory; concurrent calls share it. */
  poll(): Promise<void> {
    return (this.polling ??= this.scan().finally(() => (this.polling = undefined)));
  }

  private async scan(): Promise<void> {
    let names: string[];
    try {
      names = (await readdir(this.opts.dir)).filter(isKeyFileName).sort();
    } catch (err) {
      this.opts.logger.error({ dir: this.opts.dir, code: (err as NodeJS.ErrnoException).code }, 'identity keys: cannot read the key directory; the last good keys stay');
      return;
    }
    let changed = false;
    for (const name of [...this.files.keys()]) {
      if (!names.includes(name)) {
        this.files.delete(name);
        changed = true;
      }
    }
    for (const name of names) changed = (await this.refresh(name)) || changed;
    if (changed || this.state.version === 0) this.publish();
  }

  /** Whether the file's key changed. */
  private async refresh(name: string): Promise<boolean> {
    const file = join(this.opts.dir, name);
    let stamp: string;
    let text: string;
    try {
      const s = await stat(file);
      stamp = `${s.ino}:${s.size}:${s.mtimeMs}`;
      if (this.files.get(name)?.stamp === stamp) return false;
      text = await readFile(file, 'utf8');
    } catch (err) {
      // gone between readdir and read (a swap in progress): the next poll sees it settled
      this.opts.logger.warn({ file, code: (err as NodeJS.ErrnoException).code }, 'identity keys: cannot read a key file');
      return false;
    }
    const previous = this.files.get(name);
    const read = readSigningKey(name, text);
    if (!read.ok) {
      this.opts.logger.error({ file, problem: read.problem, keeps: previous?.key?.kid ?? null }, `identity keys: ${name} ${read.problem}; its last good key, if any, stays`);
      this.files.set(name, { stamp, ...(previous?.key ? { key: previous.key } : {}) });
      return false;
    }
    this.files.set(name, { stamp, key: read.key });
    return true;
  }

  private publish(): void {
    const keys: SigningKey[] = [];
    for (const [name, entry] of this.files) {
      if (!entry.key) continue;
      if (keys.some((k) => k.kid === entry.key!.kid)) {
        this.opts.logger.error({ file: join(this.opts.dir, name), kid: entry.key.kid }, 'identity keys: a kid is used by two files; the first by file name is kept');
        continue;
      }
      keys.push(entry.key);
    }
    const signer = this.chooseSigner(keys);
    this.state = { keys: Object.freeze(keys), ...(signer ? { signer } : {}), version: this.state.version + 1 };
    this.opts.logger.info({ dir: this.opts.dir, kids: keys.map((k) => k.kid), signer: signer?.kid ?? null }, 'identity keys loaded');
  }

  private chooseSigner(keys: readonly SigningKey[]): SigningKey | undefined {
    const want = this.opts.signingKid;
    if (want !== undefined) {
      const k = keys.find((x) => x.kid === want);
      if (!k) this.opts.logger.error({ kid: want, kids: keys.map((x) => x.kid) }, 'identity keys: the --identity-signing-key kid is not in the key directory; identity tokens are refused (503)');
      return k;
    }
    if (keys.length === 1) return keys[0];
    // a key added beside the one signing (rotation, step one) is published, not used
    const previous = this.state.signer && keys.find((k) => k.kid === this.state.signer!.kid);
    if (previous) {
      this.opts.logger.warn({ kids: keys.map((x) => x.kid), signer: previous.kid }, 'identity keys: several keys and no --identity-signing-key; the key that signed keeps signing');
      return previous;
    }
    if (keys.length > 1) this.opts.logger.error({ kids: keys.map((x) => x.kid) }, 'identity keys: several keys and no --identity-signing-key; identity tokens are refused (503)');
    else this.opts.logger.error({ dir: this.opts.dir }, 'identity keys: no usable key; identity tokens are refused (503)');
    return undefined;
  }
}
