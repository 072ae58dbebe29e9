/**
 * What one connection may make the server hold while request messages arrive: the bytes
 * buffered across its streams, and how long a stream may take to deliver its message.
 * Envoy sends a CheckRequest in one go (headers, plus a body capped by max_request_bytes)
 * and resets it at its own ext_authz timeout; a client that opens streams and never
 * finishes them is someone else, and without these bounds it holds memory until the
 * maximum connection age.
 */
import type * as http2 from 'node:http2';

/** Request bytes one connection's unfinished messages declared, across all of its streams. */
export class ConnectionBudget {
  private buffered = 0;
  constructor(private readonly maxBytes: number) {}

  /** false when `n` more bytes would exceed the budget (nothing is taken then) */
  take(n: number): boolean {
    if (this.buffered + n > this.maxBytes) return false;
    this.buffered += n;
    return true;
  }

  give(n: number): void {
    this.buffered -= n;
  }
}

/**
 * Streams still waiting for their request message, each with what to do when its time runs
 * out. One interval for the whole server: a per-stream setTimeout would cost every Check a
 * timer, while a Map insert and delete are nearly free. Streams are kept in arrival order
 * and all get the same time, so a sweep stops at the first one still in time. A stream
 * expires between `timeoutMs` and `timeoutMs + sweepMs` after it opened.
 */
export class MessageDeadlines {
  private readonly pending = new Map<http2.ServerHttp2Stream, { tick: number; expire: () => void }>();
  private tick = 0;
  private readonly ticks: number;
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(timeoutMs: number) {
    if (timeoutMs <= 0) {
      this.ticks = Infinity;
      return;
    }
    const sweepMs = Math.min(1000, Math.max(10, Math.floor(timeoutMs / 10)));
    this.ticks = Math.ceil(timeoutMs / sweepMs);
    this.timer = setInterval(() => this.sweep(), sweepMs);
    this.timer.unref();
  }

  add(stream: http2.ServerHttp2Stream, expire: () => void): void {
    if (this.timer) this.pending.set(stream, { tick: this.tick, expire });
  }

  delete(stream: http2.ServerHttp2Stream): void {
    this.pending.delete(stream);
  }

  close(): void {
    clearInterval(this.timer);
    this.pending.clear();
  }

  private sweep(): void {
    this.tick++;
    for (const [stream, entry] of this.pending) {
      if (this.tick - entry.tick < this.ticks) return;
      this.pending.delete(stream);
      entry.expire();
    }
  }
}
