/**
 * gRPC over node:http2 for the few methods claimcheck serves (doc/PROTOCOL-HTTP2.md).
 *
 * Why not grpc-js's Server: a no-op Check costs about a quarter less CPU here (measured with
 * ghz on one pinned core, docs/performance.md), and a Check is already mostly transport.
 * grpc-js wraps every call in interceptors, a metadata object, channelz counters and a
 * deadline timer; claimcheck needs none of them per call. What it does need from a gRPC
 * server is kept: routing by :path, length-prefixed messages with a size limit, gzip and
 * deflate requests, Trailers-Only errors, keepalive pings, a maximum connection age and a
 * graceful drain.
 *
 * Deadlines (grpc-timeout) are left to the client: Envoy resets the stream when its
 * ext_authz timeout passes, and an answer for a reset stream is dropped here.
 */
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { isPromise, type MaybePromise } from '../../maybe-async.js';
import { encodeGrpcMessage, GrpcCode } from './grpc-codes.js';
import { ACCEPT_ENCODING, CallError, frameMessage, PREFIX_BYTES, readSingleMessage } from './message-frame.js';

export type UnaryReply = { message: Buffer } | { code: number; details: string };

export interface ServerStreamCall {
  write(message: Buffer): void;
  /** ends the stream with status OK */
  end(): void;
  /** the client went away or the server is shutting down */
  onClose(listener: () => void): void;
}

export type GrpcMethod =
  | { kind: 'unary'; handle(request: Buffer): MaybePromise<UnaryReply> }
  | { kind: 'server-stream'; handle(request: Buffer, call: ServerStreamCall): void };

export interface Http2GrpcServerOptions {
  maxReceiveBytes: number;
  keepaliveTimeMs: number;
  keepaliveTimeoutMs: number;
  maxConnectionAgeMs: number;
  maxConnectionAgeGraceMs: number;
  /** a method threw or its promise rejected: the call gets INTERNAL */
  onHandlerError?: (err: unknown) => void;
}

const RESPONSE_HEADERS = {
  ':status': 200,
  'content-type': 'application/grpc',
  'grpc-accept-encoding': ACCEPT_ENCODING,
};
const OK_TRAILERS = { 'grpc-status': '0' };
// gRPC has no use for a date header; leaving it out saves formatting and encoding it per call
const WAIT_FOR_TRAILERS = { waitForTrailers: true, sendDate: false };
const END_STREAM = { endStream: true, sendDate: false };

export class Http2GrpcServer {
  private readonly server: http2.Http2Server;
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  private readonly openStreams = new Set<() => void>();
  private shuttingDown = false;

  constructor(
    private readonly methods: ReadonlyMap<string, GrpcMethod>,
    private readonly opts: Http2GrpcServerOptions,
  ) {
    // Like grpc-js: node's default 10 MB session memory cap refuses streams under load
    // (ENHANCE_YOUR_CALM); message size is bounded per call instead.
    this.server = http2.createServer({ maxSessionMemory: Number.MAX_SAFE_INTEGER });
    this.server.on('session', (s) => this.onSession(s));
    this.server.on('stream', (stream, headers) => this.onStream(stream, headers));
    this.server.on('sessionError', () => {
      // the session is destroyed by node; nothing to answer
    });
  }

  /** `host:port` (port 0 picks one) or a unix socket path; resolves to the bound port or undefined. */
  listen(target: { host: string; port: number } | { path: string }): Promise<number | undefined> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.server.once('error', onError);
      const done = () => {
        this.server.off('error', onError);
        const addr = this.server.address();
        resolve(typeof addr === 'object' && addr ? (addr as AddressInfo).port : undefined);
      };
      if ('path' in target) this.server.listen(target.path, done);
      else this.server.listen(target.port, target.host, done);
    });
  }

  /** Stops accepting connections, sends GOAWAY, lets in-flight calls finish; calls back once all sessions closed. */
  tryShutdown(callback: () => void): void {
    this.shuttingDown = true;
    let pending = 1 + this.sessions.size;
    const settle = () => {
      if (--pending === 0) callback();
    };
    this.server.close(() => settle());
    for (const s of this.sessions) {
      if (s.closed || s.destroyed) {
        settle();
        continue;
      }
      s.once('close', settle);
      s.close();
    }
    for (const closeStream of [...this.openStreams]) closeStream();
  }

  forceShutdown(): void {
    this.shuttingDown = true;
    for (const closeStream of [...this.openStreams]) closeStream();
    for (const s of this.sessions) s.destroy();
    this.server.close();
  }

  private onSession(session: http2.ServerHttp2Session): void {
    let pingTimer: NodeJS.Timeout | undefined;
    let ageTimer: NodeJS.Timeout | undefined;
    let graceTimer: NodeJS.Timeout | undefined;
    this.sessions.add(session);
    session.on('error', () => {
      // a reset connection; 'close' follows
    });
    session.once('close', () => {
      this.sessions.delete(session);
      clearTimeout(pingTimer);
      clearTimeout(ageTimer);
      clearTimeout(graceTimer);
    });
    if (this.shuttingDown) {
      session.close();
      return;
    }

    // Keepalive: a PING every keepaliveTimeMs; no ACK within keepaliveTimeoutMs drops the connection.
    const schedulePing = () => {
      pingTimer = setTimeout(sendPing, this.opts.keepaliveTimeMs);
      pingTimer.unref();
    };
    const sendPing = () => {
      if (session.destroyed) return;
      const timeout = setTimeout(() => session.destroy(), this.opts.keepaliveTimeoutMs);
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
    if (this.opts.keepaliveTimeMs > 0) schedulePing();

    // Max age with ±10% jitter so a fleet's connections do not all cycle at once.
    if (this.opts.maxConnectionAgeMs > 0) {
      const jitter = (Math.random() * 2 - 1) * (this.opts.maxConnectionAgeMs / 10);
      ageTimer = setTimeout(() => {
        try {
          // GOAWAY with the highest stream id first: streams already on the wire still count.
          session.goaway(http2.constants.NGHTTP2_NO_ERROR, 2 ** 31 - 1);
          session.close();
        } catch {
          session.destroy();
          return;
        }
        graceTimer = setTimeout(() => session.destroy(), this.opts.maxConnectionAgeGraceMs);
        graceTimer.unref();
      }, this.opts.maxConnectionAgeMs + jitter);
      ageTimer.unref();
    }
  }

  private onStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
    stream.on('error', () => {
      // RST_STREAM from the client, or a write after it; the call is simply dropped
    });
    const contentType = headers['content-type'];
    if (typeof contentType !== 'string' || !contentType.startsWith('application/grpc')) {
      // doc/PROTOCOL-HTTP2.md: a request that is not gRPC gets HTTP 415
      respondSafely(stream, { ':status': 415 }, true);
      return;
    }
    const method = this.methods.get(headers[':path'] ?? '');
    if (!method) {
      sendStatus(stream, GrpcCode.UNIMPLEMENTED, `unknown method ${headers[':path'] ?? ''}`);
      return;
    }
    const encodingHeader = headers['grpc-encoding'];
    const encoding = typeof encodingHeader === 'string' ? encodingHeader : undefined;
    const limit = this.opts.maxReceiveBytes;
    const maxBody = PREFIX_BYTES + limit;
    let first: Buffer | undefined;
    let more: Buffer[] | undefined;
    let received = 0;
    stream.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > maxBody) {
        if (stream.headersSent) return;
        // Stop buffering now rather than after the client sent it all; RST_STREAM(NO_ERROR)
        // after the complete answer asks the client to stop sending (RFC 9113 §8.1).
        sendStatus(stream, GrpcCode.RESOURCE_EXHAUSTED, `request message larger than ${limit} bytes`);
        stream.close(http2.constants.NGHTTP2_NO_ERROR);
        return;
      }
      if (!first) first = chunk;
      else (more ??= [first]).push(chunk);
    });
    stream.once('end', () => {
      if (received > maxBody || stream.headersSent) return;
      let request: Buffer;
      try {
        const body = more ? Buffer.concat(more) : (first ?? Buffer.alloc(0));
        request = readSingleMessage(body, encoding, limit);
      } catch (err) {
        const e = err instanceof CallError ? err : new CallError(GrpcCode.INTERNAL, 'cannot read the request');
        sendStatus(stream, e.code, e.message);
        return;
      }
      if (method.kind === 'unary') this.runUnary(stream, method, request);
      else this.runServerStream(stream, method, request);
    });
  }

  private runUnary(stream: http2.ServerHttp2Stream, method: Extract<GrpcMethod, { kind: 'unary' }>, request: Buffer): void {
    let reply: MaybePromise<UnaryReply>;
    try {
      reply = method.handle(request);
    } catch (err) {
      this.handlerFailed(stream, err);
      return;
    }
    if (!isPromise(reply)) {
      sendReply(stream, reply);
      return;
    }
    reply.then(
      (r) => sendReply(stream, r),
      (err: unknown) => this.handlerFailed(stream, err),
    );
  }

  private runServerStream(stream: http2.ServerHttp2Stream, method: Extract<GrpcMethod, { kind: 'server-stream' }>, request: Buffer): void {
    const closeListeners: (() => void)[] = [];
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      this.openStreams.delete(end);
      for (const l of closeListeners) l();
    };
    const end = () => {
      if (closed) return;
      if (!stream.closed && !stream.destroyed) {
        if (!stream.headersSent) respondSafely(stream, RESPONSE_HEADERS, false);
        stream.once('wantTrailers', () => stream.sendTrailers(OK_TRAILERS));
        stream.end();
      }
      close();
    };
    this.openStreams.add(end);
    stream.once('close', close);
    const call: ServerStreamCall = {
      write: (message) => {
        if (stream.closed || stream.destroyed) return;
        if (!stream.headersSent && !respondSafely(stream, RESPONSE_HEADERS, false)) return;
        stream.write(frameMessage(message));
      },
      end,
      onClose: (l) => {
        if (closed) l();
        else closeListeners.push(l);
      },
    };
    try {
      method.handle(request, call);
    } catch (err) {
      close();
      this.handlerFailed(stream, err);
    }
  }

  private handlerFailed(stream: http2.ServerHttp2Stream, err: unknown): void {
    try {
      this.opts.onHandlerError?.(err);
    } catch {
      // the reporter must not keep the call from being answered
    }
    sendStatus(stream, GrpcCode.INTERNAL, 'internal error');
  }
}

function sendReply(stream: http2.ServerHttp2Stream, reply: UnaryReply): void {
  if (!('message' in reply)) {
    sendStatus(stream, reply.code, reply.details);
    return;
  }
  if (!respondSafely(stream, RESPONSE_HEADERS, false)) return;
  stream.once('wantTrailers', () => stream.sendTrailers(OK_TRAILERS));
  stream.end(frameMessage(reply.message));
}

/** Trailers-Only: status in the one HEADERS frame, which ends the stream. */
function sendStatus(stream: http2.ServerHttp2Stream, code: number, details: string): void {
  if (stream.headersSent) {
    stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    return;
  }
  respondSafely(stream, { ...RESPONSE_HEADERS, 'grpc-status': String(code), 'grpc-message': encodeGrpcMessage(details) }, true);
}

/**
 * Headers that end the stream, or that leave it open for messages and then trailers. false when
 * the client already reset the stream (Envoy's timeout passed): the answer is dropped.
 */
function respondSafely(stream: http2.ServerHttp2Stream, headers: http2.OutgoingHttpHeaders, endStream: boolean): boolean {
  if (stream.closed || stream.destroyed || stream.headersSent) return false;
  try {
    stream.respond(headers, endStream ? END_STREAM : WAIT_FOR_TRAILERS);
    return true;
  } catch {
    return false;
  }
}
