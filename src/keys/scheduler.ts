/**
 * The clock and timers of the key sets: refresh, retry, poll, cold wait, maxStaleness. Injected, so
 * that tests drive time themselves instead of sleeping. Per-request I/O timeouts (fetch-json.ts)
 * stay on real timers: they bound real sockets, which a fake clock cannot move.
 */

/** Opaque to the caller; only the scheduler that returned it reads it. */
export type TimerHandle = object;

export interface Scheduler {
  /** ms since epoch */
  now(): number;
  setTimeout(run: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** setTimeout overflows above 2^31-1 ms and would then fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Date.now and node's timers, unref'ed: a pending refresh never keeps the process alive. */
export const realScheduler: Scheduler = {
  now: () => Date.now(),
  setTimeout(run, ms) {
    const timer = setTimeout(run, Math.min(Math.max(ms, 0), MAX_TIMER_MS));
    timer.unref();
    return timer;
  },
  clearTimeout(handle) {
    // Only this scheduler's own handles come back here.
    clearTimeout(handle as NodeJS.Timeout);
  },
};

/** `scheduler` with another clock; for callers that fake only the time of day. */
export function withClock(scheduler: Scheduler, now: () => number): Scheduler {
  return {
    now,
    setTimeout: (run, ms) => scheduler.setTimeout(run, ms),
    clearTimeout: (handle) => scheduler.clearTimeout(handle),
  };
}

/** At most one pending callback: setting it again replaces the one before. */
export class SingleTimer {
  private handle: TimerHandle | undefined;

  constructor(private readonly scheduler: Scheduler) {}

  set(ms: number, run: () => void): void {
    this.clear();
    this.handle = this.scheduler.setTimeout(() => {
      this.handle = undefined;
      run();
    }, ms);
  }

  clear(): void {
    if (this.handle !== undefined) this.scheduler.clearTimeout(this.handle);
    this.handle = undefined;
  }
}

/** Resolves true when `p` settled within `ms`, false when the wait gave up first (p keeps running). */
export async function settledWithin(p: Promise<unknown>, ms: number, scheduler: Scheduler): Promise<boolean> {
  const timer = new SingleTimer(scheduler);
  const limit = new Promise<boolean>((resolve) => timer.set(ms, () => resolve(false)));
  try {
    return await Promise.race([p.then(() => true, () => true), limit]);
  } finally {
    timer.clear();
  }
}
