/**
 * HTTP/1.1 keep-alive load driver for the forward-auth rows and their no-op baseline
 * (bench/http-rows.ts). h2load sends the same headers with every request (its -i file
 * varies only the path), and a new token per request needs a new `authorization` header
 * each time, so every server of the HTTP table is loaded by this driver: the same tool on
 * both sides of every ratio.
 *
 * Raw sockets, every request built as bytes before the clock starts, one request in
 * flight per connection (proxies do not pipeline), so the client's work per request is one
 * write and a scan of the answer's head. It reports its own CPU time: a client near one
 * busy core would be the bottleneck, and the table shows it.
 *
 * Usage: node --import tsx bench/http1-load.ts --target HOST:PORT --template FILE
 *          [--tokens FILE] --connections N (--duration SEC | --total N) [--rate R]
 * The template is a raw request with @TOKEN@ where each line of the tokens file goes
 * (sent round-robin). Prints one JSON object (Http1Run) on stdout.
 */
import { connect, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export interface Http1Run {
  count: number;
  sec: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** answers by status code */
  statuses: Record<string, number>;
  /** the driver's own CPU seconds over the run, and that divided by the run's wall time */
  clientCpuSec: number;
  clientBusy: number;
}

export const TOKEN_MARK = '@TOKEN@';
const HEAD_END = Buffer.from('\r\n\r\n');
// Both servers write the name in lower case; the regular expression is the slow path.
const CONTENT_LENGTH_LOWER = Buffer.from('\r\ncontent-length: ');
const CONTENT_LENGTH = /\r\ncontent-length: *(\d+)/i;
const CLOSES = Buffer.from('onnection: close');

function fail(msg: string): never {
  process.stderr.write(`http1-load: ${msg}\n`);
  process.exit(2);
}

interface Conn {
  sock: Socket;
  sentAt: number;
  /** the start of an answer that arrived in parts */
  pending: Buffer | undefined;
  onAnswer(status: number): void;
}

/** onread: reads land in one buffer per connection, without the stream machinery of 'data' events. */
function open(host: string, port: number, c: Conn): Promise<void> {
  return new Promise((resolve, reject) => {
    const buffer = Buffer.allocUnsafe(64 * 1024);
    c.sock = connect({ host, port, noDelay: true, onread: { buffer, callback: (n) => read(c, buffer.subarray(0, n)) } }, () => resolve());
    c.sock.once('error', reject);
  });
}

function read(c: Conn, chunk: Buffer): boolean {
  const buf = c.pending ? Buffer.concat([c.pending, chunk]) : chunk;
  const head = buf.indexOf(HEAD_END);
  // The read buffer is reused: a partial answer is copied.
  if (head === -1) {
    c.pending = Buffer.from(buf);
    return true;
  }
  let len = -1;
  const at = buf.indexOf(CONTENT_LENGTH_LOWER);
  if (at !== -1 && at < head) {
    len = 0;
    for (let i = at + CONTENT_LENGTH_LOWER.length; buf[i]! >= 48 && buf[i]! <= 57; i++) len = len * 10 + buf[i]! - 48;
  } else {
    const m = CONTENT_LENGTH.exec(buf.toString('latin1', 0, head));
    if (!m) fail(`an answer without content-length: ${buf.toString('latin1', 0, Math.min(head, 300))}`);
    len = Number(m[1]);
  }
  const end = head + 4 + len;
  if (buf.length < end) {
    c.pending = Buffer.from(buf);
    return true;
  }
  if (buf.length > end) fail('more bytes than one answer, and this driver never pipelines');
  const closes = buf.indexOf(CLOSES);
  if (closes !== -1 && closes < head) fail(`the server closed the connection: ${buf.toString('latin1', 0, Math.min(head, 300))}`);
  c.pending = undefined;
  c.onAnswer((buf[9]! - 48) * 100 + (buf[10]! - 48) * 10 + (buf[11]! - 48));
  return true;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      target: { type: 'string' },
      template: { type: 'string' },
      tokens: { type: 'string' },
      connections: { type: 'string' },
      duration: { type: 'string' },
      total: { type: 'string' },
      rate: { type: 'string' },
    },
  });
  if (!values.target || !values.template) fail('--target and --template are required');
  const template = readFileSync(values.template, 'latin1');
  const tokens = values.tokens ? readFileSync(values.tokens, 'utf8').split('\n').filter(Boolean) : [''];
  const requests = tokens.map((t) => Buffer.from(template.replace(TOKEN_MARK, t), 'latin1'));
  const n = Number(values.connections ?? 1);
  const limit = values.total !== undefined ? Number(values.total) : Infinity;
  const durationMs = values.duration !== undefined ? Number(values.duration) * 1000 : Infinity;
  const interval = values.rate ? 1000 / Number(values.rate) : 0;
  const colon = values.target.lastIndexOf(':');
  const conns: Conn[] = Array.from({ length: n }, () => ({ sock: undefined as unknown as Socket, sentAt: 0, pending: undefined, onAnswer: () => undefined }));
  await Promise.all(conns.map((c) => open(values.target!.slice(0, colon), Number(values.target!.slice(colon + 1)), c)));

  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  let issued = 0;
  let next = 0;
  let active = n;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let last = t0;
  let slot = t0;
  const endAt = t0 + durationMs;

  await new Promise<void>((resolve) => {
    const send = (c: Conn): void => {
      c.sentAt = performance.now();
      c.sock.write(requests[next]!);
      next = next + 1 === requests.length ? 0 : next + 1;
    };
    const issue = (c: Conn): void => {
      const now = performance.now();
      if (issued >= limit || now >= endAt) {
        if (--active === 0) resolve();
        return;
      }
      issued++;
      if (interval === 0) return send(c);
      // Throttled like ghz --rps: a connection waits for the next slot of the rate.
      const at = Math.max(now, slot);
      slot = at + interval;
      if (at - now < 0.5) send(c);
      else setTimeout(send, at - now, c);
    };
    const answered = (c: Conn, status: number): void => {
      last = performance.now();
      latencies.push(last - c.sentAt);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      issue(c);
    };
    for (const c of conns) {
      c.onAnswer = (status) => answered(c, status);
      c.sock.on('error', (err) => fail(`connection error: ${err.message}`));
      c.sock.on('close', () => {
        if (active > 0) fail('the server closed a connection during the run');
      });
      issue(c);
    }
  });

  const cpu = process.cpuUsage(cpu0);
  for (const c of conns) c.sock.destroy();
  const sec = (last - t0) / 1000;
  const sorted = Float64Array.from(latencies).sort();
  const pct = (p: number) => (sorted.length > 0 ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN);
  const clientCpuSec = (cpu.user + cpu.system) / 1e6;
  const run: Http1Run = {
    count: latencies.length,
    sec,
    rps: sec > 0 ? latencies.length / sec : 0,
    p50Ms: pct(50),
    p99Ms: pct(99),
    statuses: Object.fromEntries(statuses),
    clientCpuSec,
    clientBusy: sec > 0 ? clientCpuSec / sec : 0,
  };
  process.stdout.write(JSON.stringify(run) + '\n');
}

// Imported by the runner for its types and TOKEN_MARK; run only as a script.
if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  main().then(
    () => process.exit(0),
    (err: unknown) => fail(err instanceof Error ? err.message : String(err)),
  );
}
