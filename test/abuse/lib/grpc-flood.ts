/**
 * The listener attack of test/abuse/grpc-listener.test.ts, run as its own process so its
 * work does not slow the test's own Checks. On one node:http2 connection: 64 uploads of
 * a 4 MiB message that never finish, then 20,000 streams that send headers only. On a
 * second connection, raw frames: 20,000 header-only streams regardless of the server's
 * SETTINGS_MAX_CONCURRENT_STREAMS. Prints {"msg":"flooding"} once everything is sent,
 * and its counts when SIGTERM ends it.
 *   node --import tsx test/abuse/lib/grpc-flood.ts HOST:PORT
 */
import * as http2 from 'node:http2';
import { RawH2Connection } from './raw-h2.js';

const [host, portText] = process.argv[2]!.split(':') as [string, string];
const CHECK_PATH = '/envoy.service.auth.v3.Authorization/Check';
const UPLOADS = 64;
const HEADER_ONLY = 20_000;
const MESSAGE = 4 * 1024 * 1024;

const counts = { uploadResponses: 0, uploadResets: {} as Record<number, number>, headerOnlyClosed: 0, sessionGoaway: false, raw: {} as Record<string, unknown> };
// node's client has its own 10 MB session memory cap, which would reset these uploads itself
const session = http2.connect(`http://${host}:${portText}`, { maxSessionMemory: 1024 });
session.on('error', () => undefined);
session.on('goaway', () => (counts.sessionGoaway = true));
const headers = { ':method': 'POST', ':path': CHECK_PATH, 'content-type': 'application/grpc', te: 'trailers' };

// everything but the last byte of a message that declares 4 MiB
const prefix = Buffer.from([0, 0, 0, 0, 0]);
prefix.writeUInt32BE(MESSAGE, 1);
const body = Buffer.alloc(MESSAGE - 1, 0x41);
for (let i = 0; i < UPLOADS; i++) {
  const req = session.request(headers);
  req.on('response', () => counts.uploadResponses++);
  req.on('close', () => {
    counts.uploadResets[req.rstCode ?? -1] = (counts.uploadResets[req.rstCode ?? -1] ?? 0) + 1;
  });
  req.on('error', () => undefined);
  req.on('data', () => undefined);
  req.write(prefix);
  req.write(body);
}
for (let i = 0; i < HEADER_ONLY; i++) {
  const req = session.request(headers, { endStream: false });
  req.on('close', () => counts.headerOnlyClosed++);
  req.on('error', () => undefined);
  req.on('data', () => undefined);
}

const raw = await RawH2Connection.open(host, Number(portText));
for (let i = 0; i < HEADER_ONLY; i++) raw.openStream(CHECK_PATH);

process.stdout.write(JSON.stringify({ msg: 'flooding' }) + '\n');
process.once('SIGTERM', () => {
  counts.raw = { resets: Object.fromEntries(raw.counts.resets), goaways: raw.counts.goaways, responses: raw.counts.responses, closed: raw.counts.closed };
  process.stdout.write(JSON.stringify({ msg: 'counts', ...counts }) + '\n');
  process.exit(0);
});
