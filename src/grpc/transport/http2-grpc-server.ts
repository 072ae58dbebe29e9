/**
 * gRPC over node:http2 for the few methods claimcheck serves (doc/PROTOCOL-HTTP2.md).
 *
 * Why not grpc-js's Server: a no-op Check costs about a quarter less CPU here (measured with
 * ghz on one pinned core, docs/performance.md), and a Check is already mostly transport.
 * grpc-js wraps every call in interceptors, a metadata object, channelz counters and a
 * deadline timer; claimcheck needs none of them per call. What it does need from a gRPC
 * server is kept: routing by :path, length-prefixed messages with a size limit, gzip and
 * deflate requests, Trailers-Only errors, keepalive pings, a maximum connection age and a
 * graceful drain; and bounds on what a connection can make it buffer (request-limits.ts).
 *
 * Deadlines (grpc-timeout) are left to the client: Envoy resets the stream when its
 * ext_authz timeout passes, and an answer for a reset stream is dropped here.
 */
import * as http2 from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { GrpcCode } from '../../grpc-code.js';
import { isPromise, type MaybePromise } from '../../maybe-async.js';
import type { StreamRefusal } from '../../respond/request-refusals.js';
import { CallError, frameMessage } from './message-frame.js';
import { answerWhenEnded, readRequestMessage } from './read-request.js';
import { OK_TRAILERS, RESPONSE_HEADERS, respondNotGrpc, respondSafely, sendReply, sendStatus, type UnaryReply } from './reply.js';
import { ConnectionBudget, MessageDeadlines } from './request-limits.js';
import { startSessionTimers } from './session-lifecycle.js';
import { createHttp2Server } from '../../tls/secure-server.js';

export type { UnaryReply } from './reply.js';
export type { GrpcMethod, Http2GrpcServerOptions, ServerStreamCall } from './grpc-method.js';
import type { GrpcMethod, Http2GrpcServerOptions, ServerStreamCall } from './grpc-method.js';

// nghttp2's own allocations per connection (header tables, frames queued); what claimcheck
// buffers is bounded by maxConnectionBufferedBytes. node's default of 10 MB refused
// streams under load (ENHANCE_YOUR_CALM).
const MAX_SESSION_MEMORY_MB = 64;
/**
 * How long a refused call's answer has to leave before its still-open stream is reset.
 * Resetting at once (or on the next tick) lost the queued trailers; all the while the
 * upload is read and dropped, so it is short, and it is checked again until the
 * trailers have been handed to nghttp2.
 */
const LINGER_MS = 50;

export class Http2GrpcServer {
  private readonly server: http2.Http2Server | http2.Http2SecureServer;
  private readonly sessions = new Map<http2.Http2Session, ConnectionBudget>();
  private readonly openStreams = new Set<() => void>();
  // Destroying a session ends its socket only once nghttp2 reports its last write done, and
  // under load that report sometimes never came (a drain held for good): shutdown ends the
  // sockets itself.
  private readonly sockets = new Set<Socket>();
  private readonly deadlines: MessageDeadlines;
  private readonly lingering = new MessageDeadlines(LINGER_MS);
  private shuttingDown = false;

  constructor(
    private readonly methods: ReadonlyMap<string, GrpcMethod>,
    private readonly opts: Http2GrpcServerOptions,
  ) {
    this.server = createHttp2Server(opts.tls, { maxSessionMemory: MAX_SESSION_MEMORY_MB, settings: { maxConcurrentStreams: opts.maxConcurrentStreams } });
    this.deadlines = new MessageDeadlines(opts.requestMessageTimeoutMs);
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
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
      if (--pending > 0) return;
      this.deadlines.close();
      this.lingering.close();
      callback();
    };
    this.server.close(() => settle());
    for (const s of this.sessions.keys()) {
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
    this.deadlines.close();
    this.lingering.close();
    for (const closeStream of [...this.openStreams]) closeStream();
    for (const s of this.sessions.keys()) s.destroy();
    for (const socket of this.sockets) socket.destroy();
    this.server.close();
  }

  private onSession(session: http2.ServerHttp2Session): void {
    this.sessions.set(session, new ConnectionBudget(this.opts.maxConnectionBufferedBytes));
    session.on('error', () => {
      // a reset connection; 'close' follows
    });
    session.once('close', () => this.sessions.delete(session));
    if (this.shuttingDown) {
      session.close();
      return;
    }
    startSessionTimers(session, this.opts);
  }

  private onStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
    stream.on('error', () => {
      // RST_STREAM from the client, or a write after it; the call is simply dropped
    });
    const contentType = headers['content-type'];
    if (typeof contentType !== 'string' || !contentType.startsWith('application/grpc')) {
      answerWhenEnded(stream, this.deadlines, () => respondNotGrpc(stream));
      return;
    }
    const method = this.methods.get(headers[':path'] ?? '');
    if (!method) {
      sendStatus(stream, GrpcCode.UNIMPLEMENTED, `unknown method ${headers[':path'] ?? ''}`);
      return;
    }
    const encoding = headers['grpc-encoding'];
    readRequestMessage(stream, {
      encoding: typeof encoding === 'string' ? encoding : undefined,
      maxBytes: this.opts.maxReceiveBytes,
      budget: this.sessions.get(stream.session!) ?? new ConnectionBudget(this.opts.maxConnectionBufferedBytes),
      deadlines: this.deadlines,
      lingering: this.lingering,
      onMessage: (request) => {
        if (method.kind === 'unary') this.runUnary(stream, method, request);
        else this.runServerStream(stream, method, request);
      },
      onRefused: (err, stopUpload) => this.refuse(stream, method, err, stopUpload),
      onTimedOut: () => {
        this.report('request_timeout');
        if (!stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL);
      },
    });
  }

  /** The request message cannot be had; Check answers with a denial, anything else with the status. */
  private report(refusal: StreamRefusal): void {
    try {
      this.opts.onRefused?.(refusal);
    } catch {
      // the reporter must not keep the call from being answered
    }
  }

  private refuse(stream: http2.ServerHttp2Stream, method: GrpcMethod, err: CallError, stopUpload: boolean): void {
    this.report(err.refusal);
    const message = method.kind === 'unary' ? method.refuse?.(err.refusal) : undefined;
    sendReply(stream, message ? { message } : { code: err.code, details: err.message }, stopUpload);
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
