/**
 * Collects a call's DATA into its one request message, within the message size limit, the
 * connection's buffer budget and the message deadline (request-limits.ts). At the deadline
 * the stream is reset; the other limits refuse the call at once: the bytes held are released and the answer goes
 * out. What the client still sends is dropped as it arrives, and a linger period later
 * (time for the answer to be on the wire) a stream it has not finished gets
 * RST_STREAM(NO_ERROR), which stops the upload and frees the stream's slot. NO_ERROR, as
 * RFC 9113 §8.1 says for a response complete before its request: a grpc-js client still
 * uploading sometimes never called back after a CANCEL there.
 */
import * as http2 from 'node:http2';
import { GrpcCode } from '../../grpc-code.js';
import { CallError, PREFIX_BYTES, readSingleMessage, tooLarge } from './message-frame.js';
import type { ConnectionBudget, MessageDeadlines } from './request-limits.js';

export interface ReadRequestContext {
  /** the call's grpc-encoding header */
  encoding: string | undefined;
  maxBytes: number;
  budget: ConnectionBudget;
  deadlines: MessageDeadlines;
  /** when a refused stream the client still sends on is reset */
  lingering: MessageDeadlines;
  onMessage(request: Buffer): void;
  /** `stopUpload`: the request was still arriving */
  onRefused(err: CallError, stopUpload: boolean): void;
  /** no complete request message by the deadline */
  onTimedOut(): void;
}

const EMPTY = Buffer.alloc(0);

export function readRequestMessage(stream: http2.ServerHttp2Stream, ctx: ReadRequestContext): void {
  let first: Buffer | undefined;
  let more: Buffer[] | undefined;
  let received = 0;
  // the prefix's message length, taken from the connection's budget as soon as it is known
  let reserved = 0;
  let done = false;
  const finish = () => {
    done = true;
    ctx.budget.give(reserved);
    ctx.deadlines.delete(stream);
    first = more = undefined;
  };
  const refuse = (err: CallError) => {
    if (done) return;
    finish();
    ctx.onRefused(err, true);
    const resetWhenAnswered = () => {
      if (stream.closed) return;
      // still writing the answer (a reset would drop its queued frames): look again later
      if (!stream.writableFinished || stream.sentTrailers === undefined) ctx.lingering.add(stream, resetWhenAnswered);
      else stream.close(http2.constants.NGHTTP2_NO_ERROR);
    };
    ctx.lingering.add(stream, resetWhenAnswered);
  };
  ctx.deadlines.add(stream, () => {
    if (done) return;
    finish();
    ctx.onTimedOut();
  });
  stream.on('data', (chunk: Buffer) => {
    if (done) return;
    received += chunk.length;
    if (!first) first = chunk;
    else (more ??= [first]).push(chunk);
    if (reserved === 0 && received >= PREFIX_BYTES) {
      // Refused on the prefix alone, before the message is buffered: too large, or more than
      // this connection may hold now. A message declares its length up front, so a budget of
      // declared lengths holds however its bytes are spread over streams.
      const declared = (first.length >= PREFIX_BYTES ? first : Buffer.concat(more!)).readUInt32BE(1);
      if (declared > ctx.maxBytes) return refuse(tooLarge(ctx.maxBytes));
      if (!ctx.budget.take(PREFIX_BYTES + declared)) return refuse(new CallError(GrpcCode.RESOURCE_EXHAUSTED, 'connection_busy', 'too many request bytes buffered on this connection'));
      reserved = PREFIX_BYTES + declared;
    }
    if (reserved > 0 && received > reserved) refuse(new CallError(GrpcCode.INTERNAL, 'malformed_request', 'more than one request message for a single-request method'));
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
  // reset by the client (Envoy's timeout) before the message was complete, or after a refusal
  stream.once('close', () => {
    if (!done) finish();
    ctx.lingering.delete(stream);
  });
}

/**
 * Answers a request once it has ended (the 415 for a request that is not gRPC). An answer
 * sent before the request's end raced the client's next frames: h2spec's trailers carrying
 * a pseudo-header (RFC 9113 §8.3) then met a closed stream instead of the PROTOCOL_ERROR
 * reset nghttp2 gives them. What the client sends meanwhile is dropped; a request still
 * open at the message deadline is reset.
 */
export function answerWhenEnded(stream: http2.ServerHttp2Stream, deadlines: MessageDeadlines, answer: () => void): void {
  if (stream.endAfterHeaders || stream.readableEnded) {
    answer();
    return;
  }
  deadlines.add(stream, () => {
    if (!stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL);
  });
  stream.on('data', () => undefined);
  stream.once('end', () => {
    deadlines.delete(stream);
    answer();
  });
  stream.once('close', () => deadlines.delete(stream));
}
