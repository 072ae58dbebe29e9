/**
 * The baseline: a plain grpc-js server with claimcheck's server options whose Check answers
 * a pre-encoded OK CheckResponse without decoding the request. Its throughput is the
 * framework ceiling for one Node process; every scenario is reported as a ratio to it.
 * Plain JavaScript over dist/ (built by `npm run bench`), so no TypeScript loader adds to
 * its memory or start-up.
 * Usage: node bench/noop-server.mjs [HOST:PORT]   (prints {"msg":"noop serving","grpc":...})
 */
import * as grpc from '@grpc/grpc-js';
import { loadProtos } from '../dist/grpc/load-protos.js';
import { SERVER_OPTIONS } from '../dist/grpc/server.js';

const addr = process.argv[2] ?? '127.0.0.1:0';
const check = loadProtos().authorization.Check;
const OK = check.responseSerialize({ status: { code: 0, message: '' }, ok_response: {} });

const server = new grpc.Server(SERVER_OPTIONS);
server.addService(
  { Check: { ...check, requestDeserialize: (b) => b, responseSerialize: (b) => b } },
  { Check: (_call, cb) => cb(null, OK) },
);
server.bindAsync(addr, grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err) {
    process.stderr.write(`noop: ${err.message}\n`);
    process.exit(1);
  }
  process.stderr.write(JSON.stringify({ msg: 'noop serving', grpc: `${addr.replace(/:\d+$/, '')}:${port}` }) + '\n');
});
process.once('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
