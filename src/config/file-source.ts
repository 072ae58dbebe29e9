import { watch, type FSWatcher } from 'node:fs';
import { createHash } from 'node:crypto';
import { listConfigFiles, loadConfigDir, type LoadedConfig } from '../model/load-config-dir.js';
import { silentLogger, type Logger } from '../telemetry/logger.js';

export interface FileConfigSourceOptions {
  dir: string;
  /** coalesce bursts of file events (editors write, rename, chmod) */
  debounceMs?: number;
  /** periodic stat scan; catches what fs.watch misses */
  rescanMs?: number;
  logger?: Logger;
}

export type ConfigListener = (loaded: LoadedConfig) => unknown;

/**
 * Watches a directory of manifests and delivers the whole parsed set on every change.
 * fs.watch alone is not enough: inotify misses a ConfigMap's `..data` symlink swap for
 * files reached through the old symlink target, and editors replace files by rename, so
 * a periodic stat scan (path, inode, size, mtime) backs it up. The caller decides
 * whether a delivery with problems replaces the running snapshot.
 */
export class FileConfigSource {
  private readonly dir: string;
  private readonly debounceMs: number;
  private readonly rescanMs: number;
  private readonly logger: Logger;
  private watcher: FSWatcher | undefined;
  private rescanTimer: NodeJS.Timeout | undefined;
  private debounceTimer: NodeJS.Timeout | undefined;
  private listener: ConfigListener | undefined;
  private statSignature = '';
  private contentSignature = '';
  private loading: Promise<void> | undefined;
  private reloadAgain = false;
  private stopped = false;
  private watchError: string | undefined;

  constructor(opts: FileConfigSourceOptions) {
    this.dir = opts.dir;
    this.debounceMs = opts.debounceMs ?? 100;
    this.rescanMs = opts.rescanMs ?? 1000;
    this.logger = opts.logger ?? silentLogger();
  }

  /** Loads once (the first delivery happens before this resolves), then watches. */
  async start(onChange: ConfigListener): Promise<void> {
    this.listener = onChange;
    this.stopped = false;
    await this.reload();
    this.startWatcher();
    this.rescanTimer = setInterval(() => void this.rescan(), this.rescanMs);
    this.rescanTimer.unref();
  }

  stop(): void {
    this.stopped = true;
    this.watcher?.close();
    this.watcher = undefined;
    if (this.rescanTimer) clearInterval(this.rescanTimer);
    if (this.debounceTimer) clearTimeout(this.debounceTimer);
    this.rescanTimer = undefined;
    this.debounceTimer = undefined;
  }

  private startWatcher(): void {
    try {
      this.watcher = watch(this.dir, { recursive: true, persistent: false }, () => this.schedule());
      this.watcher.on('error', (err) => {
        this.watchFailed(err);
        this.watcher?.close();
        this.watcher = undefined;
      });
      if (this.watchError !== undefined) this.logger.info({ dir: this.dir }, 'watching the config directory again');
      this.watchError = undefined;
    } catch (err) {
      // a missing directory or no recursive watch support: the rescan still notices changes
      this.watchFailed(err);
    }
  }

  /** One line when watching starts failing or fails differently; the rescan retries every second. */
  private watchFailed(err: unknown): void {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    if (code === this.watchError) return;
    this.watchError = code;
    this.logger.warn({ dir: this.dir, error: code }, 'cannot watch the config directory; relying on the periodic rescan');
  }

  /**
   * The first event starts the timer and later ones join it (not a sliding window), so a
   * steady stream of events can never postpone the reload past `debounceMs`.
   */
  private schedule(): void {
    if (this.stopped || this.debounceTimer) return;
    this.debounceTimer = setTimeout(() => {
      this.debounceTimer = undefined;
      void this.reload();
    }, this.debounceMs);
  }

  private async rescan(): Promise<void> {
    if (this.stopped || this.loading) return;
    if (!this.watcher) this.startWatcher();
    const sig = await this.currentStatSignature();
    if (sig !== this.statSignature) this.schedule();
  }

  private async currentStatSignature(): Promise<string> {
    const files = await listConfigFiles(this.dir, []);
    return files.map((f) => `${f.file}\0${f.ino}\0${f.size}\0${f.mtimeMs}`).join('\n');
  }

  /** One load at a time; a change during a load triggers one more. */
  private async reload(): Promise<void> {
    if (this.loading) {
      this.reloadAgain = true;
      return this.loading;
    }
    this.loading = (async () => {
      do {
        this.reloadAgain = false;
        this.statSignature = await this.currentStatSignature();
        const loaded = await loadConfigDir(this.dir);
        if (this.stopped) return;
        const content = signatureOf(loaded);
        if (content === this.contentSignature) continue;
        this.contentSignature = content;
        this.logger.info({ dir: this.dir, files: loaded.files.length, resources: loaded.resources.length, problems: loaded.problems.length }, 'config files loaded');
        try {
          await this.listener?.(loaded);
        } catch (err) {
          this.logger.error({ err }, 'config listener failed');
        }
      } while (this.reloadAgain && !this.stopped);
    })();
    try {
      await this.loading;
    } finally {
      this.loading = undefined;
    }
  }
}

/** Piecewise, so a large configuration is never serialised into one string. */
function signatureOf(loaded: LoadedConfig): string {
  const h = createHash('sha256').update(JSON.stringify(loaded.files)).update('\0');
  for (const r of loaded.resources) h.update(JSON.stringify(r)).update('\0');
  return h.update(JSON.stringify(loaded.problems)).digest('hex');
}
