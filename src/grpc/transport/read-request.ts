/**
 * Collects a call's DATA into its one request message, within the message size limit, the
 * connection's buffer budget and the message deadline (request-limits.ts). Whichever limit
 * is hit first refuses the call at once: the bytes held are released and the client is
 * asked to stop sending.
 */
import type * as http2 from 'node:http2';
import { GrpcCode } from '../../grpc-code.js';
import { CallError, PREFIX_BYTES, readSingleMessage, tooLarge } from './message-frame.js';
import type { ConnectionBudget, MessageDeadlines } from './request-limits.js';

export interface ReadRequestContext {
  /** the call's grpc-encoding header */
  encoding: string | undefined;
  maxBytes: number;
  budget: ConnectionBudget;
  deadlines: MessageDeadlines;
  timeoutMs: number;
  onMessage(request: Buffer): void;
  /** `stopUpload`: the request was still arriving */
  onRefused(err: CallError, stopUpload: boolean): void;
}

const EMPTY = Buffer.alloc(0);

export function readRequestMessage(stream: http2.ServerHttp2Stream, ctx: ReadRequestContext): void {
  const maxBody = PREFIX_BYTES + ctx.maxBytes;
  let first: Buffer | undefined;
  let more: Buffer[] | undefined;
  let received = 0;
  let done = false;
  const finish = () => {
    done = true;
    ctx.budget.give(received);
    ctx.deadlines.delete(stream);
    first = more = undefined;
  };
  const refuse = (err: CallError) => {
    if (done) return;
    finish();
    ctx.onRefused(err, true);
  };
  ctx.deadlines.add(stream, () => refuse(new CallError(GrpcCode.DEADLINE_EXCEEDED, 'request_timeout', `no complete request message within ${ctx.timeoutMs} ms`)));
  stream.on('data', (chunk: Buffer) => {
    if (done) return;
    // Stop buffering now rather than after the client sent it all.
    if (received + chunk.length > maxBody) return refuse(tooLarge(ctx.maxBytes));
    if (!ctx.budget.take(chunk.length)) return refuse(new CallError(GrpcCode.RESOURCE_EXHAUSTED, 'connection_busy', 'too many request bytes buffered on this connection'));
    received += chunk.length;
    if (!first) first = chunk;
    else (more ??= [first]).push(chunk);
  });
  stream.once('end', () => {
    if (done) return;
    const body = more ? Buffer.concat(more) : (first ?? EMPTY);
    finish();
    let request: Buffer;
    try {
      request = readSingleMessage(body, ctx.encoding, ctx.maxBytes);
    } catch (err) {
      ctx.onRefused(err instanceof CallError ? err : new CallError(GrpcCode.INTERNAL, 'malformed_request', 'cannot read the request'), false);
      return;
    }
    ctx.onMessage(request);
  });
  // reset by the client (Envoy's timeout) before the message was complete
  stream.once('close', () => {
    if (!done) finish();
  });
}
