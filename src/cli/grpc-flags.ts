/** The flags of the gRPC listener (docs/operations.md "The gRPC server", docs/security.md). */
import type { GrpcListenerOptions } from '../grpc/server.js';
import { oneOf, withDefault } from './flag.js';
import { durationMs, positiveInt } from './flag-values.js';

export const GRPC_FLAGS = {
  'grpc-server': withDefault(['serve'], 'claimcheck', oneOf(['claimcheck', 'grpc-js'] as const), {
    value: 'claimcheck|grpc-js',
    help: "which gRPC server serves Check and health: claimcheck's own transport or grpc-js's",
    doc: "`claimcheck`: claimcheck's own transport on `node:http2`, the fastest; `grpc-js`: grpc-js's `Server` with claimcheck's codec, about 40% more CPU per Check and fewer limits ([The gRPC server](#the-grpc-server))",
  }),
  'grpc-max-concurrent-streams': withDefault(['serve'], '256', positiveInt, {
    value: 'N',
    help: 'SETTINGS_MAX_CONCURRENT_STREAMS: streams one connection may have open',
    doc: 'advertised as `SETTINGS_MAX_CONCURRENT_STREAMS`; a stream beyond it is refused. Envoy keeps as many streams open as Checks in flight, and opens another connection at the limit ([security.md](security.md#the-grpc-listener))',
  }),
  'grpc-connection-buffer-mib': withDefault(['serve'], '16', positiveInt, {
    value: 'MIB',
    help: 'request message bytes one connection may have in flight across its streams (claimcheck transport)',
    doc: 'the request messages one connection may have in flight, by the length each declares; a stream that would go past it gets a 503 denial. Three of the largest (4 MiB) messages; not enforced by `--grpc-server grpc-js` ([security.md](security.md#the-grpc-listener))',
  }),
  'grpc-request-timeout': withDefault(['serve'], '10s', durationMs(), {
    value: 'DURATION',
    help: 'a stream without its complete request message by then is reset; 0 turns it off',
    doc: 'a stream whose request message is not complete by then is reset (grpc-js: ends with `DEADLINE_EXCEEDED`) and counted; `0` turns it off. Envoy resets its own call at its ext_authz timeout (200 ms by default), long before ([security.md](security.md#the-grpc-listener))',
  }),
} as const;

type Values = { readonly [K in keyof typeof GRPC_FLAGS]: ReturnType<(typeof GRPC_FLAGS)[K]['read']> };

export function grpcListenerOptions(v: Values): Readonly<GrpcListenerOptions> {
  return Object.freeze({
    server: v['grpc-server'],
    maxConcurrentStreams: v['grpc-max-concurrent-streams'],
    maxConnectionBufferedBytes: v['grpc-connection-buffer-mib'] * 1024 * 1024,
    requestMessageTimeoutMs: v['grpc-request-timeout'],
  });
}
