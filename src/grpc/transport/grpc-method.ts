/** The methods the transport serves and its options: what a caller of Http2GrpcServer hands it. */
import type { ServerTls } from '../../tls/server-tls.js';
import type { MaybePromise } from '../../maybe-async.js';
import type { RequestRefusal, StreamRefusal } from '../../respond/request-refusals.js';
import type { UnaryReply } from './reply.js';
import type { SessionTimerOptions } from './session-lifecycle.js';

export interface ServerStreamCall {
  write(message: Buffer): void;
  /** ends the stream with status OK */
  end(): void;
  /** the client went away or the server is shutting down */
  onClose(listener: () => void): void;
}

export type GrpcMethod =
  | {
      kind: 'unary';
      handle(request: Buffer): MaybePromise<UnaryReply>;
      /** the message answered when the request message cannot be had; else the CallError's status */
      refuse?(refusal: RequestRefusal): Buffer;
    }
  | { kind: 'server-stream'; handle(request: Buffer, call: ServerStreamCall): void };

export interface Http2GrpcServerOptions extends SessionTimerOptions {
  maxReceiveBytes: number;
  /** SETTINGS_MAX_CONCURRENT_STREAMS advertised to every client (RFC 9113 §6.5.2) */
  maxConcurrentStreams: number;
  /** request bytes one connection may have buffered across its streams */
  maxConnectionBufferedBytes: number;
  /** a stream without its complete request message after this long is reset; 0: never */
  requestMessageTimeoutMs: number;
  /** a method threw or its promise rejected: the call gets INTERNAL */
  onHandlerError?: (err: unknown) => void;
  /** a call was refused before its method ran */
  onRefused?: (refusal: StreamRefusal) => void;
  /** --grpc-tls-*: TLS with ALPN h2 (and with a client CA, mTLS) */
  tls?: ServerTls;
}

