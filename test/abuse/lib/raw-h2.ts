/**
 * An HTTP/2 client that writes frames itself (RFC 9113 §4, HPACK literals per RFC 7541 §6.2.2),
 * for what node:http2's client will not send: streams past the peer's
 * SETTINGS_MAX_CONCURRENT_STREAMS. It ACKs SETTINGS and PING and counts what comes back.
 */
import { connect, type Socket } from 'node:net';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
const HEADERS = 0x1, RST_STREAM = 0x3, SETTINGS = 0x4, PING = 0x6, GOAWAY = 0x7;
const END_HEADERS = 0x4, ACK = 0x1;

function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

/** Literal header field without indexing, new name, no Huffman coding; names and values under 127 bytes. */
function hpack(headers: [string, string][]): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of headers) parts.push(Buffer.from([0x00, name.length]), Buffer.from(name), Buffer.from([value.length]), Buffer.from(value));
  return Buffer.concat(parts);
}

export interface RawH2Counts {
  /** RST_STREAM frames received, by error code */
  resets: Map<number, number>;
  goaways: number;
  responses: number;
  closed: boolean;
}

export class RawH2Connection {
  readonly counts: RawH2Counts = { resets: new Map(), goaways: 0, responses: 0, closed: false };
  private readonly socket: Socket;
  private pending = Buffer.alloc(0);
  private nextStream = 1;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => this.read(d));
    socket.on('close', () => (this.counts.closed = true));
    socket.on('error', () => undefined);
  }

  static open(host: string, port: number): Promise<RawH2Connection> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, host, () => {
        socket.write(Buffer.concat([PREFACE, frame(SETTINGS, 0, 0, Buffer.alloc(0))]));
        resolve(new RawH2Connection(socket));
      });
      socket.once('error', reject);
    });
  }

  /** Opens a stream with the request's HEADERS and never sends anything else on it. */
  openStream(path: string): void {
    const id = this.nextStream;
    this.nextStream += 2;
    const block = hpack([[':method', 'POST'], [':scheme', 'http'], [':path', path], [':authority', 'claimcheck'], ['content-type', 'application/grpc'], ['te', 'trailers']]);
    this.socket.write(frame(HEADERS, END_HEADERS, id, block));
  }

  close(): void {
    this.socket.destroy();
  }

  private read(d: Buffer): void {
    this.pending = Buffer.concat([this.pending, d]);
    while (this.pending.length >= 9) {
      const len = this.pending.readUIntBE(0, 3);
      if (this.pending.length < 9 + len) return;
      const type = this.pending[3]!;
      const flags = this.pending[4]!;
      const payload = this.pending.subarray(9, 9 + len);
      this.pending = this.pending.subarray(9 + len);
      if (type === SETTINGS && !(flags & ACK)) this.socket.write(frame(SETTINGS, ACK, 0, Buffer.alloc(0)));
      else if (type === PING && !(flags & ACK)) this.socket.write(frame(PING, ACK, 0, payload));
      else if (type === RST_STREAM) {
        const code = payload.readUInt32BE(0);
        this.counts.resets.set(code, (this.counts.resets.get(code) ?? 0) + 1);
      } else if (type === GOAWAY) this.counts.goaways++;
      else if (type === HEADERS) this.counts.responses++;
    }
  }
}
