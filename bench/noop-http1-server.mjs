/**
 * The HTTP/1.1 baseline: a plain node:http server that answers every request 200 with an
 * empty body, on keep-alive connections, with the listener options claimcheck's HTTP
 * authorization listener runs with (src/http-authz/authz-http-server.ts), so the gap to a
 * forward-auth row is claimcheck's own work, not a different server configuration.
 * Plain JavaScript, like bench/noop-server.mjs: no TypeScript loader in the process measured.
 * Usage: node bench/noop-http1-server.mjs [HOST:PORT]   (prints {"msg":"noop serving","authzHttp":...})
 */
import { createServer } from 'node:http';

const addr = process.argv[2] ?? '127.0.0.1:0';
const host = addr.replace(/:\d+$/, '');
const server = createServer({ maxHeaderSize: 80 * 1024, requestTimeout: 10_000, keepAliveTimeout: 75_000 }, (_req, res) => {
  res.writeHead(200, ['content-length', '0']);
  res.end();
});
server.listen({ host, port: Number(addr.slice(host.length + 1)) }, () => {
  const a = server.address();
  process.stderr.write(JSON.stringify({ msg: 'noop serving', authzHttp: `${host}:${typeof a === 'object' && a ? a.port : 0}` }) + '\n');
});
process.once('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
