/**
 * A clock and timers that move only when a test says so. advance(ms) runs every timer due by the
 * new time in due order (ties in the order they were set), each with the clock at its due time,
 * including timers those callbacks set; then the clock stands at the new time. Work a timer starts
 * that needs real I/O (a fetch) finishes after advance() returns: await it (KeyRegistry.idle()).
 */
import type { Scheduler, TimerHandle } from '../../src/keys/scheduler.js';

interface PendingTimer {
  at: number;
  seq: number;
  run: () => void;
}

export class FakeScheduler implements Scheduler {
  private ms: number;
  private seq = 0;
  private readonly timers = new Map<TimerHandle, PendingTimer>();

  constructor(startMs = 1_900_000_000_000) {
    this.ms = startMs;
  }

  now(): number {
    return this.ms;
  }

  setTimeout(run: () => void, ms: number): TimerHandle {
    const handle = {};
    this.timers.set(handle, { at: this.ms + Math.max(0, ms), seq: ++this.seq, run });
    return handle;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle);
  }

  advance(ms: number): void {
    const end = this.ms + ms;
    for (let next = this.nextDue(end); next; next = this.nextDue(end)) {
      this.timers.delete(next[0]);
      this.ms = next[1].at;
      next[1].run();
    }
    this.ms = end;
  }

  /** Timers set and not yet run or cleared. */
  pending(): number {
    return this.timers.size;
  }

  private nextDue(end: number): [TimerHandle, PendingTimer] | undefined {
    let best: [TimerHandle, PendingTimer] | undefined;
    for (const entry of this.timers) {
      const t = entry[1];
      if (t.at <= end && (!best || t.at < best[1].at || (t.at === best[1].at && t.seq < best[1].seq))) best = entry;
    }
    return best;
  }
}
