/**
 * The HTTP listener floor: claimcheck's own HTTP authorization listener
 * (dist/http-authz/authz-http-server.js: header limits, body handling, reading the
 * forward-auth request, writing the answer) with a check that returns a constant allow
 * with the identity header the claimcheck rows set, without deciding anything. Between it
 * and the no-op node:http server is the listener's envelope; between it and a forward-auth
 * row, the decision itself (like the gRPC table's transport row).
 * Usage: node bench/noop-authz-http-server.mjs [HOST:PORT]   (prints {"msg":"noop serving","authzHttp":...})
 */
import { startAuthzHttpServer } from '../dist/http-authz/authz-http-server.js';

const OK = Object.freeze({ kind: 'ok', headersToSet: [{ name: 'x-user-id', value: 'user-0' }], headersToRemove: [] });
const server = await startAuthzHttpServer({ addr: process.argv[2] ?? '127.0.0.1:0', check: () => OK });
process.stderr.write(JSON.stringify({ msg: 'noop serving', authzHttp: server.address }) + '\n');
process.once('SIGTERM', () => server.drain(5_000).then(() => process.exit(0)));
