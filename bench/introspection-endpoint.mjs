/**
 * The introspection endpoint of the opaque-token rows: answers every POST with an active
 * token of the bench issuer (RFC 7662 §2.2), on keep-alive connections. Plain JavaScript, a
 * process of its own, so its work is not counted as claimcheck's.
 * Usage: node bench/introspection-endpoint.mjs ISSUER AUDIENCE   (prints {"msg":"introspection serving","url":...})
 */
import { createServer } from 'node:http';

const [iss, aud] = process.argv.slice(2);
const exp = Math.floor(Date.now() / 1000) + 24 * 3600;
let n = 0;
const server = createServer({ keepAliveTimeout: 75_000 }, (req, res) => {
  req.resume();
  req.on('end', () => {
    const body = JSON.stringify({ active: true, iss, aud, sub: `user-${n++ % 1000}`, scope: 'orders:read', client_id: 'bench', exp, token_type: 'Bearer' });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
server.listen({ host: '127.0.0.1', port: 0 }, () => {
  const a = server.address();
  process.stderr.write(JSON.stringify({ msg: 'introspection serving', url: `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}/introspect` }) + '\n');
});
process.once('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
