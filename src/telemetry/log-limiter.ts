/**
 * At most `perSecond` lines per kind and second, then one summary line with the count of
 * what was left out. A client that sends malformed messages as fast as it can must not
 * be able to fill the disk or drown the other log lines; the metric still counts every
 * event.
 */
import type { Logger } from './logger.js';

export interface LogLimiterOptions {
  perSecond?: number;
  now?: () => number;
  /** schedules the summary at the end of a window; unref'd by default */
  setTimer?: (fn: () => void, ms: number) => void;
  /** called for every event, logged or not (a metric) */
  count?: (kind: string) => void;
}

interface Window {
  startMs: number;
  logged: number;
  suppressed: number;
  timer: boolean;
  level: 'error' | 'warn';
}

const WINDOW_MS = 1000;

export class LogLimiter {
  private readonly windows = new Map<string, Window>();
  private readonly perSecond: number;
  private readonly now: () => number;
  private readonly setTimer: (fn: () => void, ms: number) => void;

  constructor(private readonly logger: Logger, private readonly opts: LogLimiterOptions = {}) {
    this.perSecond = opts.perSecond ?? 10;
    this.now = opts.now ?? Date.now;
    this.setTimer = opts.setTimer ?? ((fn, ms) => setTimeout(fn, ms).unref());
  }

  error(kind: string, fields: Record<string, unknown>, message: string): void {
    this.emit('error', kind, fields, message);
  }

  warn(kind: string, fields: Record<string, unknown>, message: string): void {
    this.emit('warn', kind, fields, message);
  }

  private emit(level: 'error' | 'warn', kind: string, fields: Record<string, unknown>, message: string): void {
    this.opts.count?.(kind);
    const now = this.now();
    let w = this.windows.get(kind);
    if (!w || now - w.startMs >= WINDOW_MS) {
      if (w) this.flush(kind, w);
      w = { startMs: now, logged: 0, suppressed: 0, timer: false, level };
      this.windows.set(kind, w);
    }
    if (w.logged < this.perSecond) {
      w.logged++;
      this.logger[level]({ kind, ...fields }, message);
      return;
    }
    w.suppressed++;
    if (!w.timer) {
      w.timer = true;
      const window = w;
      this.setTimer(() => {
        if (this.windows.get(kind) === window) {
          this.flush(kind, window);
          this.windows.delete(kind);
        }
      }, window.startMs + WINDOW_MS - now);
    }
  }

  private flush(kind: string, w: Window): void {
    if (w.suppressed === 0) return;
    this.logger[w.level]({ kind, suppressed: w.suppressed }, `${w.suppressed} more ${kind} line(s) in the last second were not logged`);
    w.suppressed = 0;
  }
}
