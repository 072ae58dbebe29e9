/** Per-connection timers: keepalive PINGs and the maximum connection age. */
import * as http2 from 'node:http2';

export interface SessionTimerOptions {
  keepaliveTimeMs: number;
  keepaliveTimeoutMs: number;
  maxConnectionAgeMs: number;
  maxConnectionAgeGraceMs: number;
}

/** Starts the session's timers; they stop by themselves when it closes. */
export function startSessionTimers(session: http2.ServerHttp2Session, opts: SessionTimerOptions): void {
  let pingTimer: NodeJS.Timeout | undefined;
  let ageTimer: NodeJS.Timeout | undefined;
  let graceTimer: NodeJS.Timeout | undefined;
  session.once('close', () => {
    clearTimeout(pingTimer);
    clearTimeout(ageTimer);
    clearTimeout(graceTimer);
  });

  // Keepalive: a PING every keepaliveTimeMs; no ACK within keepaliveTimeoutMs drops the connection.
  const schedulePing = () => {
    pingTimer = setTimeout(sendPing, opts.keepaliveTimeMs);
    pingTimer.unref();
  };
  const sendPing = () => {
    if (session.destroyed) return;
    const timeout = setTimeout(() => session.destroy(), opts.keepaliveTimeoutMs);
    timeout.unref();
    pingTimer = timeout;
    let sent = false;
    try {
      sent = session.ping((err) => {
        clearTimeout(timeout);
        if (err) session.destroy();
        else schedulePing();
      });
    } catch {
      sent = false;
    }
    if (!sent) {
      clearTimeout(timeout);
      session.destroy();
    }
  };
  if (opts.keepaliveTimeMs > 0) schedulePing();

  // Max age with ±10% jitter so a fleet's connections do not all cycle at once.
  if (opts.maxConnectionAgeMs > 0) {
    const jitter = (Math.random() * 2 - 1) * (opts.maxConnectionAgeMs / 10);
    ageTimer = setTimeout(() => {
      try {
        // GOAWAY with the highest stream id first: streams already on the wire still count.
        session.goaway(http2.constants.NGHTTP2_NO_ERROR, 2 ** 31 - 1);
        session.close();
      } catch {
        session.destroy();
        return;
      }
      graceTimer = setTimeout(() => session.destroy(), opts.maxConnectionAgeGraceMs);
      graceTimer.unref();
    }, opts.maxConnectionAgeMs + jitter);
    ageTimer.unref();
  }
}
