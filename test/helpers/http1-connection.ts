/**
 * One HTTP/1.1 connection, written byte by byte: the request target goes out exactly as
 * given (no client normalises `..`), and every request on it provably reuses the same
 * socket, as a proxy's keep-alive pool does.
 */
import { connect, type Socket } from 'node:net';

export interface Http1Response {
  status: number;
  /** lowercase name -> values in order */
  headers: Map<string, string[]>;
  body: string;
  /** the server said `connection: close` or closed the socket after the answer */
  closed: boolean;
}

export interface Http1Connection {
  /** `headers` as [name, value] pairs, sent in order; content-length is added for a body */
  request(method: string, target: string, headers: [string, string][], body?: string): Promise<Http1Response>;
  /** raw bytes, for requests no well-behaved client writes */
  raw(bytes: string): Promise<Http1Response>;
  readonly socket: Socket;
  close(): void;
}

export async function openHttp1(where: { port: number; host?: string } | { path: string }): Promise<Http1Connection> {
  const socket = connect('path' in where ? { path: where.path } : { port: where.port, host: where.host ?? '127.0.0.1' });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let buffer = Buffer.alloc(0);
  let ended = false;
  let waiter: (() => void) | undefined;
  socket.on('data', (d: Buffer) => {
    buffer = Buffer.concat([buffer, d]);
    waiter?.();
  });
  socket.on('close', () => {
    ended = true;
    waiter?.();
  });
  socket.on('error', () => undefined);

  const next = (): Promise<Http1Response> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no complete response within 10 s; got ${JSON.stringify(buffer.toString('latin1').slice(0, 300))}`)), 10_000);
      const tryParse = () => {
        const res = parseOne();
        if (res) {
          clearTimeout(timer);
          waiter = undefined;
          resolve(res);
        } else if (ended) {
          clearTimeout(timer);
          waiter = undefined;
          reject(new Error(`connection closed before a complete response; got ${JSON.stringify(buffer.toString('latin1').slice(0, 300))}`));
        }
      };
      waiter = tryParse;
      tryParse();
    });

  const parseOne = (): Http1Response | undefined => {
    const end = buffer.indexOf('\r\n\r\n');
    if (end < 0) return undefined;
    const lines = buffer.subarray(0, end).toString('latin1').split('\r\n');
    const status = Number(lines[0]!.split(' ')[1]);
    const headers = new Map<string, string[]>();
    for (const line of lines.slice(1)) {
      const i = line.indexOf(':');
      const name = line.slice(0, i).trim().toLowerCase();
      headers.set(name, [...(headers.get(name) ?? []), line.slice(i + 1).trim()]);
    }
    const length = Number(headers.get('content-length')?.[0] ?? 0);
    if (buffer.length < end + 4 + length) return undefined;
    const body = buffer.subarray(end + 4, end + 4 + length).toString('utf8');
    buffer = buffer.subarray(end + 4 + length);
    const closed = headers.get('connection')?.[0]?.toLowerCase() === 'close';
    return { status, headers, body, closed };
  };

  const send = (bytes: string) => {
    socket.write(bytes);
    return next();
  };
  return {
    socket,
    raw: send,
    request: (method, target, headers, body) => {
      const all = body !== undefined ? [...headers, ['content-length', String(Buffer.byteLength(body))] as [string, string]] : headers;
      return send(`${method} ${target} HTTP/1.1\r\n${all.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n${body ?? ''}`);
    },
    close: () => socket.destroy(),
  };
}
