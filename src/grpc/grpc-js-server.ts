/**
 * The same methods on @grpc/grpc-js's Server (--grpc-server grpc-js): the tested fallback for
 * a deployment that would rather run the common library than claimcheck's own transport
 * (docs/operations.md "The gRPC server"). Messages pass through grpc-js as bytes; the
 * methods decode and encode them as they do on the own transport.
 *
 * What grpc-js cannot do: a message over the size limit, or one it cannot decompress, is
 * its own RESOURCE_EXHAUSTED or INTERNAL status (it checks before any application code
 * runs), not a denial; and it has no per-connection budget of buffered request bytes
 * (grpc-node.max_session_memory counts only nghttp2's memory, not the messages grpc-js
 * buffers). The request-message timeout is a server interceptor, which can only end the call
 * with a status where the own transport resets the stream.
 */
import * as grpc from '@grpc/grpc-js';
import { GrpcCode } from '../grpc-code.js';
import { isPromise } from '../maybe-async.js';
import type { GrpcMethod, Http2GrpcServerOptions, UnaryReply } from './transport/http2-grpc-server.js';
import type { ServerTls } from '../tls/server-tls.js';
import type { TlsMaterial } from '../tls/tls-material.js';

const raw = (b: Buffer) => b;

export class GrpcJsServer {
  private readonly server: grpc.Server;

  constructor(methods: ReadonlyMap<string, GrpcMethod>, private readonly opts: Http2GrpcServerOptions) {
    this.server = new grpc.Server({
      'grpc.max_receive_message_length': opts.maxReceiveBytes,
      'grpc.max_send_message_length': opts.maxReceiveBytes,
      'grpc.keepalive_time_ms': opts.keepaliveTimeMs,
      'grpc.keepalive_timeout_ms': opts.keepaliveTimeoutMs,
      'grpc.max_connection_age_ms': opts.maxConnectionAgeMs,
      'grpc.max_connection_age_grace_ms': opts.maxConnectionAgeGraceMs,
      'grpc.max_concurrent_streams': opts.maxConcurrentStreams,
      // megabytes, as for node:http2; grpc-js otherwise turns node's limit off
      'grpc-node.max_session_memory': 64,
      interceptors: opts.requestMessageTimeoutMs > 0 ? [this.messageTimeout()] : [],
    });
    const definition: Record<string, grpc.MethodDefinition<Buffer, Buffer>> = {};
    const implementation: grpc.UntypedServiceImplementation = {};
    for (const [path, method] of methods) {
      definition[path] = { path, requestStream: false, responseStream: method.kind === 'server-stream', requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw, originalName: path };
      implementation[path] = method.kind === 'unary' ? this.unary(method) : this.serverStream(method);
    }
    this.server.addService(definition, implementation);
  }

  /** `host:port` (port 0 picks one) or a unix socket path; resolves to the bound port or undefined. */
  listen(target: { host: string; port: number } | { path: string }): Promise<number | undefined> {
    const addr = 'path' in target ? `unix:${target.path}` : `${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`;
    return new Promise((resolve, reject) => {
      this.server.bindAsync(addr, this.credentials(), (err, port) => (err ? reject(err) : resolve('path' in target ? undefined : port)));
    });
  }

  /** --grpc-tls-*: grpc-js reads the pair through a CertificateProvider, fed by the ServerTls on every change. */
  private credentials(): grpc.ServerCredentials {
    const tls = this.opts.tls;
    if (!tls) return grpc.ServerCredentials.createInsecure();
    const provider = certificateProvider(tls);
    // grpc-js's function names its first parameter the CA provider but uses it as the identity
    // one (server-credentials.js 1.14); the same object in both places works either way
    return grpc.experimental.createCertificateProviderServerCredentials(provider, tls.mutual ? provider : null, tls.mutual);
  }

  tryShutdown(callback: () => void): void {
    this.server.tryShutdown(() => callback());
  }

  forceShutdown(): void {
    this.server.forceShutdown();
  }

  private unary(method: Extract<GrpcMethod, { kind: 'unary' }>): grpc.handleUnaryCall<Buffer, Buffer> {
    const answer = (callback: grpc.sendUnaryData<Buffer>, reply: UnaryReply) => ('message' in reply ? callback(null, reply.message) : callback({ code: reply.code, details: reply.details }));
    const failed = (callback: grpc.sendUnaryData<Buffer>, err: unknown) => {
      this.report(() => this.opts.onHandlerError?.(err));
      callback({ code: GrpcCode.INTERNAL, details: 'internal error' });
    };
    return (call, callback) => {
      try {
        const reply = method.handle(call.request);
        if (!isPromise(reply)) answer(callback, reply);
        else reply.then((r) => answer(callback, r), (err: unknown) => failed(callback, err));
      } catch (err) {
        failed(callback, err);
      }
    };
  }

  private serverStream(method: Extract<GrpcMethod, { kind: 'server-stream' }>): grpc.handleServerStreamingCall<Buffer, Buffer> {
    return (call) => {
      let closed = false;
      const listeners: (() => void)[] = [];
      const close = () => {
        if (closed) return;
        closed = true;
        for (const l of listeners) l();
      };
      call.once('cancelled', close);
      call.once('close', close);
      try {
        method.handle(call.request, {
          write: (message) => {
            if (!closed) call.write(message);
          },
          end: () => {
            if (!closed) call.end();
            close();
          },
          onClose: (l) => (closed ? l() : listeners.push(l)),
        });
      } catch (err) {
        close();
        this.report(() => this.opts.onHandlerError?.(err));
        call.destroy(Object.assign(new Error('internal error'), { code: GrpcCode.INTERNAL }));
      }
    };
  }

  /** A call without its request message after requestMessageTimeoutMs ends with DEADLINE_EXCEEDED (grpc-js cannot reset it). */
  private messageTimeout(): grpc.ServerInterceptor {
    const timeoutMs = this.opts.requestMessageTimeoutMs;
    return (_descriptor, next) => {
      let timer: NodeJS.Timeout | undefined;
      const call = new grpc.ServerInterceptingCall(next, {
        start: (listen) => {
          timer = setTimeout(() => {
            this.report(() => this.opts.onRefused?.('request_timeout'));
            call.sendStatus({ code: GrpcCode.DEADLINE_EXCEEDED, details: `no complete request message within ${timeoutMs} ms` });
          }, timeoutMs);
          listen({
            onReceiveMessage: (message, pass) => {
              clearTimeout(timer);
              pass(message);
            },
            onCancel: () => clearTimeout(timer),
          });
        },
      });
      return call;
    };
  }

  private report(fn: () => void): void {
    try {
      fn();
    } catch {
      // the reporter must not keep the call from being answered
    }
  }
}

function certificateProvider(tls: ServerTls): grpc.experimental.CertificateProvider {
  const identity = new Set<grpc.experimental.IdentityCertificateUpdateListener>();
  const ca = new Set<grpc.experimental.CaCertificateUpdateListener>();
  const identityOf = (m: TlsMaterial) => ({ certificate: m.raw.cert, privateKey: m.raw.key });
  tls.onChange((m) => {
    for (const l of identity) l(identityOf(m));
    if (m.raw.clientCa) for (const l of ca) l({ caCertificate: m.raw.clientCa });
  });
  // The first update must come later than the call that subscribes: grpc-js adds the server as
  // a watcher of its credentials only after subscribing, and an update before that is lost,
  // leaving the server to drop every connection (server.js createHttp2Server, 1.14).
  return {
    addIdentityCertificateListener: (l) => {
      identity.add(l);
      queueMicrotask(() => identity.has(l) && l(identityOf(tls.current)));
    },
    removeIdentityCertificateListener: (l) => void identity.delete(l),
    addCaCertificateListener: (l) => {
      ca.add(l);
      queueMicrotask(() => ca.has(l) && tls.current.raw.clientCa && l({ caCertificate: tls.current.raw.clientCa }));
    },
    removeCaCertificateListener: (l) => void ca.delete(l),
  };
}
