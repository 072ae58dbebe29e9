/**
 * The transport floor: claimcheck's own gRPC transport (dist/grpc/transport/) answering the same
 * pre-encoded OK CheckResponse as the baseline, without decoding the request. The gap between it
 * and a claimcheck row is claimcheck's own work; the gap between it and the grpc-js baseline is
 * what the transport saves.
 * Usage: node bench/noop-h2-server.mjs [HOST:PORT]   (prints {"msg":"noop serving","grpc":...})
 */
import { CHECK_PATH, SERVER_OPTIONS, parseHostPort } from '../dist/grpc/server.js';
import { Http2GrpcServer } from '../dist/grpc/transport/http2-grpc-server.js';
import { encodeCheckResponse } from '../dist/grpc/wire/encode-check-response.js';

const addr = process.argv[2] ?? '127.0.0.1:0';
const OK = encodeCheckResponse({ kind: 'ok', headersToSet: [], headersToRemove: [] });
const server = new Http2GrpcServer(new Map([[CHECK_PATH, { kind: 'unary', handle: () => ({ message: OK }) }]]), SERVER_OPTIONS);
const port = await server.listen(parseHostPort(addr));
process.stderr.write(JSON.stringify({ msg: 'noop serving', grpc: `${addr.replace(/:\d+$/, '')}:${port}` }) + '\n');
process.once('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
