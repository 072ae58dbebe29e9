/**
 * The tracing rows' OTLP/HTTP endpoint: accepts every export (POST /v1/traces, protobuf) and
 * answers 200 with an empty ExportTraceServiceResponse, on keep-alive connections. A process
 * of its own on the client's CPU, as a collector would run elsewhere.
 * Usage: node bench/otlp-sink.mjs   (prints {"msg":"otlp sink serving","url":...})
 */
import { createServer } from 'node:http';

let spans = 0;
const server = createServer({ keepAliveTimeout: 75_000 }, (req, res) => {
  let bytes = 0;
  req.on('data', (c) => (bytes += c.length));
  req.on('end', () => {
    spans += bytes > 0 ? 1 : 0;
    res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': 0 });
    res.end();
  });
});
server.listen({ host: '127.0.0.1', port: 0 }, () => {
  const a = server.address();
  process.stderr.write(JSON.stringify({ msg: 'otlp sink serving', url: `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}` }) + '\n');
});
process.once('SIGTERM', () => {
  process.stderr.write(JSON.stringify({ msg: 'otlp sink exports', exports: spans }) + '\n');
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
