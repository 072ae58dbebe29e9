/**
 * A TCP relay between an HTTP/2 client and server that reads the headers of the frames the
 * server sends, with their time: what no client API reports, e.g. when a GOAWAY arrived and
 * on which connection. Bytes pass through untouched.
 */
import { connect, createServer, type Socket } from 'node:net';

export const FRAME_TYPE = { DATA: 0x0, HEADERS: 0x1, RST_STREAM: 0x3, SETTINGS: 0x4, PING: 0x6, GOAWAY: 0x7 } as const;

export interface ServerFrame {
  /** index of the relayed connection, in the order they were opened */
  connection: number;
  type: number;
  flags: number;
  streamId: number;
  payload: Buffer;
  /** ms since the relay's connection to the server was established */
  atMs: number;
}

export interface H2FrameRelay {
  /** 127.0.0.1:PORT, for the client */
  address: string;
  /** every frame the server sent, all connections, in arrival order */
  frames: ServerFrame[];
  connectionCount(): number;
  /** the first frame (already seen or still to come) that matches, or undefined after timeoutMs */
  waitFor(match: (f: ServerFrame) => boolean, timeoutMs: number): Promise<ServerFrame | undefined>;
  close(): Promise<void>;
}

export async function startH2FrameRelay(target: { host: string; port: number }): Promise<H2FrameRelay> {
  const frames: ServerFrame[] = [];
  const waiters = new Set<(f: ServerFrame) => void>();
  const sockets = new Set<Socket>();
  let connections = 0;

  const server = createServer((client) => {
    const index = connections++;
    const upstream = connect(target.port, target.host);
    let openedAt = Date.now();
    upstream.once('connect', () => (openedAt = Date.now()));
    let pending = Buffer.alloc(0);
    const onServerBytes = (chunk: Buffer) => {
      client.write(chunk);
      pending = Buffer.concat([pending, chunk]);
      // a frame header: 24-bit length, type, flags, then a reserved bit and a 31-bit stream id
      while (pending.length >= 9) {
        const length = pending.readUIntBE(0, 3);
        if (pending.length < 9 + length) break;
        const frame: ServerFrame = {
          connection: index,
          type: pending[3]!,
          flags: pending[4]!,
          streamId: pending.readUInt32BE(5) & 0x7fffffff,
          payload: Buffer.from(pending.subarray(9, 9 + length)),
          atMs: Date.now() - openedAt,
        };
        pending = pending.subarray(9 + length);
        frames.push(frame);
        for (const w of [...waiters]) w(frame);
      }
    };
    upstream.on('data', onServerBytes);
    client.on('data', (d: Buffer) => upstream.write(d));
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;

  return {
    address: `127.0.0.1:${port}`,
    frames,
    connectionCount: () => connections,
    waitFor(match, timeoutMs) {
      const seen = frames.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          waiters.delete(onFrame);
          resolve(undefined);
        }, timeoutMs);
        const onFrame = (f: ServerFrame) => {
          if (!match(f)) return;
          clearTimeout(timer);
          waiters.delete(onFrame);
          resolve(f);
        };
        waiters.add(onFrame);
      });
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
