/**
 * A TCP proxy between claimcheck and the API server that a test can break in the ways
 * networks break: refuse (connection refused / reset), or freeze the open connections
 * (a half-open connection: no error, just silence) while new ones still get through.
 * TLS passes through untouched, so the API server's certificate for 127.0.0.1 still verifies.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  /** https://127.0.0.1:PORT */
  url: string;
  /** resets every connection and refuses new ones until restore() */
  cut(): void;
  restore(): void;
  /** open connections stay open but carry nothing more; new connections work */
  freezeOpenConnections(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let refusing = false;
  const open = new Set<{ client: Socket; upstream: Socket; frozen: boolean }>();
  const server: Server = createServer((client) => {
    if (refusing) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(target.port, target.host);
    const pair = { client, upstream, frozen: false };
    open.add(pair);
    client.on('data', (d) => { if (!pair.frozen) upstream.write(d); });
    upstream.on('data', (d) => { if (!pair.frozen) client.write(d); });
    const end = () => {
      open.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `https://127.0.0.1:${port}`,
    cut() {
      refusing = true;
      for (const p of open) {
        p.client.resetAndDestroy();
        p.upstream.destroy();
      }
      open.clear();
    },
    restore() {
      refusing = false;
    },
    freezeOpenConnections() {
      for (const p of open) p.frozen = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const p of open) {
          p.client.destroy();
          p.upstream.destroy();
        }
        server.close(() => resolve());
      }),
  };
}
