/** A fake stream for readRequestMessage (read-request.ts), fed chunk by chunk, with the budget and timers it reads under. */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type * as http2 from 'node:http2';
import type { CallError } from '../../src/grpc/transport/message-frame.js';
import { readRequestMessage } from '../../src/grpc/transport/read-request.js';
import { ConnectionBudget, type MessageDeadlines } from '../../src/grpc/transport/request-limits.js';

export const MAX = 64;

/** Timers the test fires by hand: the message deadline and the linger before a reset. */
export class ManualDeadlines {
  readonly pending = new Map<unknown, () => void>();
  add(stream: unknown, expire: () => void): void {
    this.pending.set(stream, expire);
  }
  delete(stream: unknown): void {
    this.pending.delete(stream);
  }
  fire(): void {
    const due = [...this.pending.values()];
    this.pending.clear();
    for (const f of due) f();
  }
}

export interface Outcome {
  messages: Buffer[];
  refused: { err: CallError; stopUpload: boolean }[];
  timedOut: number;
}

/** A stream fed by `send`, with the budget and timers it was read under. */
export function reading(opts: { encoding?: string; budgetBytes?: number; budget?: ConnectionBudget } = {}) {
  const stream = Object.assign(new EventEmitter(), { closed: false, writableFinished: true, sentTrailers: {}, resetWith: undefined as number | undefined });
  (stream as unknown as { close(code: number): void }).close = (code: number) => {
    stream.closed = true;
    stream.resetWith = code;
  };
  // `budget`: one connection's, shared with other streams; its size is then `budgetBytes`
  const budget = opts.budget ?? new ConnectionBudget(opts.budgetBytes ?? 1024);
  const taken: number[] = [];
  const take = budget.take.bind(budget);
  budget.take = (n) => (taken.push(n), take(n));
  const deadlines = new ManualDeadlines();
  const lingering = new ManualDeadlines();
  const out: Outcome = { messages: [], refused: [], timedOut: 0 };
  readRequestMessage(stream as unknown as http2.ServerHttp2Stream, {
    encoding: opts.encoding,
    maxBytes: MAX,
    budget,
    deadlines: deadlines as unknown as MessageDeadlines,
    lingering: lingering as unknown as MessageDeadlines,
    onMessage: (m) => out.messages.push(m),
    onRefused: (err, stopUpload) => out.refused.push({ err, stopUpload }),
    onTimedOut: () => out.timedOut++,
  });
  const send = (...chunks: Buffer[]) => {
    for (const c of chunks) stream.emit('data', c);
  };
  const end = () => stream.emit('end');
  // what the budget holds now: a probe that takes everything that is left, then gives it back
  const held = () => {
    let free = 0;
    while (take(1)) free++;
    budget.give(free);
    return (opts.budgetBytes ?? 1024) - free;
  };
  return { stream, out, send, end, taken, held, deadlines, lingering };
}

/** `buf` cut at the given offsets. */
export const cut = (buf: Buffer, ...at: number[]) => [0, ...at].map((from, i) => buf.subarray(from, at[i] ?? buf.length));
export const payload = (n: number, fill = 0x61) => Buffer.alloc(n, fill);
export const prefix = (flag: number, length: number) => {
  const p = Buffer.alloc(5);
  p[0] = flag;
  p.writeUInt32BE(length, 1);
  return p;
};

export function refusalOf(out: Outcome): { refusal: string; code: number; message: string; stopUpload: boolean } {
  assert.equal(out.messages.length, 0, 'no message handed on');
  assert.equal(out.refused.length, 1, 'refused exactly once');
  const { err, stopUpload } = out.refused[0]!;
  return { refusal: err.refusal, code: err.code, message: err.message, stopUpload };
}
