/** Runs ghz against one server and reads its JSON report. */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { encodeUpstream } from '../test/helpers/random-check-request.js';
import { pinned } from './pin.js';

const PROTO_DIR = fileURLToPath(new URL('../proto/', import.meta.url));
export const CALL = 'envoy.service.auth.v3.Authorization/Check';

export interface LoadSettings {
  /** concurrent requests in flight (ghz workers) */
  concurrency: number;
  /** HTTP/2 connections they share */
  connections: number;
}

export interface GhzRun {
  count: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

/** varint length prefix + message, repeated: ghz -B reads such a file as a list and sends it round-robin. */
export function writeRequests(file: string, requests: readonly object[]): void {
  const parts: Buffer[] = [];
  for (const r of requests) {
    const msg = encodeUpstream(r);
    const len: number[] = [];
    let n = msg.length;
    while (n > 0x7f) {
      len.push((n & 0x7f) | 0x80);
      n >>>= 7;
    }
    len.push(n);
    parts.push(Buffer.from(len), msg);
  }
  writeFileSync(file, Buffer.concat(parts));
}

export async function runGhz(
  ghz: string,
  target: string,
  dataFile: string,
  load: LoadSettings,
  // ghz 0.121's -x (max duration) silently replaces -n with 2^31-1, so counted runs use -n alone.
  how: { durationSec: number } | { total: number },
  rps?: number,
): Promise<GhzRun> {
  const args = [
    '--insecure',
    '--proto', `${PROTO_DIR}envoy/service/auth/v3/external_auth.proto`,
    '-i', PROTO_DIR,
    '--call', CALL,
    '-B', dataFile,
    '-c', String(load.concurrency),
    '--connections', String(load.connections),
    '-t', '10s',
    '-O', 'json',
    // calls cut off when the duration ends are left out of the report, not counted as errors
    ...('durationSec' in how ? ['-z', `${how.durationSec}s`, '--duration-stop', 'ignore'] : ['-n', String(how.total)]),
    ...(rps ? ['--rps', String(rps)] : []),
    target,
  ];
  const out = await new Promise<string>((resolve, reject) => {
    const [cmd, argv] = pinned('client', ghz, args);
    execFile(cmd, argv, { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      // ghz exits 1 when some calls failed but still prints its report
      if (stdout.trim().startsWith('{')) resolve(stdout);
      else reject(new Error(`ghz failed: ${err?.message ?? ''} ${stderr.slice(0, 500)}`));
    });
  });
  const r = JSON.parse(out) as {
    count: number;
    rps: number;
    latencyDistribution?: { percentage: number; latency: number }[] | null;
    statusCodeDistribution?: Record<string, number>;
    errorDistribution?: Record<string, number> | null;
  };
  const pct = (p: number) => (r.latencyDistribution?.find((d) => d.percentage === p)?.latency ?? NaN) / 1e6;
  const ok = r.statusCodeDistribution?.OK ?? 0;
  return { count: r.count, rps: r.rps, p50Ms: pct(50), p99Ms: pct(99), errors: r.count - ok };
}
