/** Writing a call's answer on node:http2 (doc/PROTOCOL-HTTP2.md "Responses"). */
import * as http2 from 'node:http2';
import type { GrpcCode } from '../../grpc-code.js';
import { encodeGrpcMessage } from './grpc-message.js';
import { ACCEPT_ENCODING, frameMessage } from './message-frame.js';

export type UnaryReply = { message: Buffer } | { code: GrpcCode; details: string };

export const RESPONSE_HEADERS = {
  ':status': 200,
  'content-type': 'application/grpc',
  'grpc-accept-encoding': ACCEPT_ENCODING,
};
export const OK_TRAILERS = { 'grpc-status': '0' };
// gRPC has no use for a date header; leaving it out saves formatting and encoding it per call
const WAIT_FOR_TRAILERS = { waitForTrailers: true, sendDate: false };
const END_STREAM = { endStream: true, sendDate: false };

/**
 * `stopUpload`: the answer is complete before the request is, so RST_STREAM(NO_ERROR) after
 * it asks the client to stop sending (RFC 9113 §8.1) and frees the stream now.
 */
export function sendReply(stream: http2.ServerHttp2Stream, reply: UnaryReply, stopUpload = false): void {
  if (!('message' in reply)) {
    sendStatus(stream, reply.code, reply.details, stopUpload);
    return;
  }
  if (!respondSafely(stream, RESPONSE_HEADERS, false)) return;
  stream.once('wantTrailers', () => {
    stream.sendTrailers(OK_TRAILERS);
    // nghttp2 drops a stream's queued frames when it is reset: the trailers go out first
    if (stopUpload) stream.once("finish", () => stream.close(http2.constants.NGHTTP2_NO_ERROR));
  });
  stream.end(frameMessage(reply.message));
}

/** Trailers-Only: status in the one HEADERS frame, which ends the stream. */
export function sendStatus(stream: http2.ServerHttp2Stream, code: GrpcCode, details: string, stopUpload = false): void {
  if (stream.headersSent) {
    stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    return;
  }
  respondSafely(stream, { ...RESPONSE_HEADERS, 'grpc-status': String(code), 'grpc-message': encodeGrpcMessage(details) }, true);
  if (stopUpload && !stream.closed) stream.close(http2.constants.NGHTTP2_NO_ERROR);
}

/**
 * Headers that end the stream, or that leave it open for messages and then trailers. false when
 * the client already reset the stream (Envoy's timeout passed): the answer is dropped.
 */
export function respondSafely(stream: http2.ServerHttp2Stream, headers: http2.OutgoingHttpHeaders, endStream: boolean): boolean {
  if (stream.closed || stream.destroyed || stream.headersSent) return false;
  try {
    stream.respond(headers, endStream ? END_STREAM : WAIT_FOR_TRAILERS);
    return true;
  } catch {
    return false;
  }
}

const NOT_GRPC_HEADERS = { ':status': 415, 'content-type': 'text/plain; charset=utf-8' };
const NOT_GRPC_BODY = 'claimcheck serves gRPC here (content-type: application/grpc)\n';

/** doc/PROTOCOL-HTTP2.md: a request that is not gRPC gets HTTP 415; the body is for a person with curl. */
export function respondNotGrpc(stream: http2.ServerHttp2Stream): void {
  if (stream.closed || stream.destroyed || stream.headersSent) return;
  try {
    stream.respond(NOT_GRPC_HEADERS);
    stream.end(NOT_GRPC_BODY);
  } catch {
    // reset by the client meanwhile
  }
}
