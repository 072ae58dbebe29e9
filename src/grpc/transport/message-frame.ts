/**
 * gRPC's length-prefixed message (doc/PROTOCOL-HTTP2.md): one flag byte (1 = compressed with
 * the call's grpc-encoding), a 4-byte big-endian length, the message.
 */
import { gunzipSync, inflateSync } from 'node:zlib';
import { GrpcCode } from './grpc-codes.js';

export const PREFIX_BYTES = 5;

export function frameMessage(message: Buffer): Buffer {
  const out = Buffer.allocUnsafe(PREFIX_BYTES + message.length);
  out[0] = 0;
  out.writeUInt32BE(message.length, 1);
  message.copy(out, PREFIX_BYTES);
  return out;
}

export class CallError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

/** Encodings a client may compress requests with; responses are never compressed. */
export const ACCEPT_ENCODING = 'identity,deflate,gzip';

/**
 * The one message of a unary or server-streaming request, from the DATA received for it.
 * `encoding` is the request's grpc-encoding header; `maxBytes` bounds the message before and
 * after decompression.
 */
export function readSingleMessage(body: Buffer, encoding: string | undefined, maxBytes: number): Buffer {
  if (body.length < PREFIX_BYTES) throw new CallError(GrpcCode.INTERNAL, body.length === 0 ? 'no request message' : 'truncated message prefix');
  const flag = body[0]!;
  const length = body.readUInt32BE(1);
  if (length > maxBytes) throw new CallError(GrpcCode.RESOURCE_EXHAUSTED, `request message larger than ${maxBytes} bytes`);
  const end = PREFIX_BYTES + length;
  if (body.length < end) throw new CallError(GrpcCode.INTERNAL, 'truncated request message');
  if (body.length > end) throw new CallError(GrpcCode.INTERNAL, 'more than one request message for a single-request method');
  const message = body.subarray(PREFIX_BYTES, end);
  if (flag === 0) return message;
  if (flag !== 1) throw new CallError(GrpcCode.INTERNAL, `invalid message flag ${flag}`);
  try {
    if (encoding === 'gzip') return gunzipSync(message, { maxOutputLength: maxBytes });
    if (encoding === 'deflate') return inflateSync(message, { maxOutputLength: maxBytes });
  } catch (err) {
    const tooBig = (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE';
    throw new CallError(tooBig ? GrpcCode.RESOURCE_EXHAUSTED : GrpcCode.INTERNAL, tooBig ? `request message larger than ${maxBytes} bytes` : `cannot decompress the ${encoding} message`);
  }
  if (encoding === undefined || encoding === 'identity') throw new CallError(GrpcCode.INTERNAL, 'compressed message without a grpc-encoding');
  throw new CallError(GrpcCode.UNIMPLEMENTED, `unsupported grpc-encoding ${encoding}`);
}
