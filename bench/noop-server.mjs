/**
 * The baseline: a plain grpc-js server with claimcheck's former server options whose Check answers
 * a pre-encoded OK CheckResponse without decoding the request. Its throughput is the
 * framework ceiling for one Node process; every scenario is reported as a ratio to it.
 * Plain JavaScript over dist/ (built by `npm run bench`), so no TypeScript loader adds to
 * its memory or start-up.
 * Usage: node bench/noop-server.mjs [HOST:PORT]   (prints {"msg":"noop serving","grpc":...})
 */
import * as grpc from '@grpc/grpc-js';
import { CHECK_PATH } from '../dist/grpc/server.js';
import { encodeCheckResponse } from '../dist/grpc/wire/encode-check-response.js';

const addr = process.argv[2] ?? '127.0.0.1:0';
const OK = encodeCheckResponse({ kind: 'ok', headersToSet: [], headersToRemove: [] });
const raw = (b) => b;
const check = { path: CHECK_PATH, requestStream: false, responseStream: false, requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw };

// The options claimcheck ran grpc-js with before it had its own transport (src/grpc/transport/).
const server = new grpc.Server({
  'grpc.max_receive_message_length': 4 * 1024 * 1024,
  'grpc.max_send_message_length': 4 * 1024 * 1024,
  'grpc.keepalive_time_ms': 60_000,
  'grpc.keepalive_timeout_ms': 20_000,
  'grpc.max_connection_age_ms': 10 * 60_000,
  'grpc.max_connection_age_grace_ms': 30_000,
});
server.addService({ Check: check }, { Check: (_call, cb) => cb(null, OK) });
server.bindAsync(addr, grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err) {
    process.stderr.write(`noop: ${err.message}\n`);
    process.exit(1);
  }
  process.stderr.write(JSON.stringify({ msg: 'noop serving', grpc: `${addr.replace(/:\d+$/, '')}:${port}` }) + '\n');
});
process.once('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
