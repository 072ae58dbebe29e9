/** A real upstream behind a proxy: it records what reached it and answers 200 with it as JSON. */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

export interface EchoUpstream {
  port: number;
  /** every request that reached the upstream, oldest first */
  received: Received[];
  close(): Promise<void>;
}

export async function startEchoUpstream(): Promise<EchoUpstream> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers };
    received.push(seen);
    req.resume();
    req.on('end', () => {
      const body = JSON.stringify(seen);
      // a length, not chunks: the tests' HTTP/1.1 client reads bodies by content-length
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-upstream': 'echo' });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
