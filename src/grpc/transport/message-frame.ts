/**
 * gRPC's length-prefixed message (doc/PROTOCOL-HTTP2.md): one flag byte (1 = compressed with
 * the call's grpc-encoding), a 4-byte big-endian length, the message.
 */
import { gunzipSync, inflateSync } from 'node:zlib';
import { GrpcCode } from '../../grpc-code.js';
import type { RequestRefusal } from '../../respond/request-refusals.js';

export const PREFIX_BYTES = 5;

export function frameMessage(message: Buffer): Buffer {
  const out = Buffer.allocUnsafe(PREFIX_BYTES + message.length);
  out[0] = 0;
  out.writeUInt32BE(message.length, 1);
  message.copy(out, PREFIX_BYTES);
  return out;
}

/** The request message cannot be had: the gRPC status a generic method answers, and the refusal Check denies with. */
export class CallError extends Error {
  constructor(readonly code: GrpcCode, readonly refusal: RequestRefusal, message: string) {
    super(message);
  }
}

export const tooLarge = (maxBytes: number) => new CallError(GrpcCode.RESOURCE_EXHAUSTED, 'request_too_large', `request message larger than ${maxBytes} bytes`);
const malformed = (message: string, code: GrpcCode = GrpcCode.INTERNAL) => new CallError(code, 'malformed_request', message);

/** Encodings a client may compress requests with; responses are never compressed. */
export const ACCEPT_ENCODING = 'identity,deflate,gzip';

/**
 * The one message of a unary or server-streaming request, from the DATA received for it.
 * `encoding` is the request's grpc-encoding header; `maxBytes` bounds the message before and
 * after decompression.
 */
export function readSingleMessage(body: Buffer, encoding: string | undefined, maxBytes: number): Buffer {
  if (body.length < PREFIX_BYTES) throw malformed(body.length === 0 ? 'no request message' : 'truncated message prefix');
  const flag = body[0]!;
  const length = body.readUInt32BE(1);
  if (length > maxBytes) throw tooLarge(maxBytes);
  const end = PREFIX_BYTES + length;
  if (body.length < end) throw malformed('truncated request message');
  if (body.length > end) throw malformed('more than one request message for a single-request method');
  const message = body.subarray(PREFIX_BYTES, end);
  if (flag === 0) return message;
  if (flag !== 1) throw malformed(`invalid message flag ${flag}`);
  try {
    if (encoding === 'gzip') return gunzipSync(message, { maxOutputLength: maxBytes });
    if (encoding === 'deflate') return inflateSync(message, { maxOutputLength: maxBytes });
  } catch (err) {
    throw (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' ? tooLarge(maxBytes) : malformed(`cannot decompress the ${encoding} message`);
  }
  if (encoding === undefined || encoding === 'identity') throw malformed('compressed message without a grpc-encoding');
  throw malformed(`unsupported grpc-encoding ${encoding}`, GrpcCode.UNIMPLEMENTED);
}
