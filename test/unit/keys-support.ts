/** Shared set-up for the keys-*.test.ts files: real HTTPS key servers under a test CA, a fake scheduler, captured logs. */
import { after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { KeyLookup } from '../../src/authn/types.js';
import { verifyToken } from '../../src/authn/verify-token.js';
import type { CompiledIssuer, CompiledJwks } from '../../src/compile/snapshot.js';
import { KeyRegistry, type KeyRegistryOptions } from '../../src/keys/key-registry.js';
import type { KeySetStatus } from '../../src/keys/key-set-health.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import type { Metrics } from '../../src/telemetry/metrics.js';
import { FakeScheduler } from '../helpers/fake-scheduler.js';
import { startJwksServer, type JwksServer } from '../helpers/jwks-server.js';
import { startStallingEndpoint, type StallingEndpoint } from '../helpers/stalling-endpoint.js';
import { createTestCa, type TestCa } from '../helpers/test-ca.js';
import { jwksOf, makeIssuer, signToken, type TestKey } from '../helpers/tokens.js';

export const MINUTE = 60_000;

let testCa: TestCa | undefined;
/** One CA per test file, made on first use. */
export function ca(): TestCa {
  testCa ??= createTestCa('claimcheck keys test CA');
  return testCa;
}

const servers: { close(): Promise<void> }[] = [];
const registries: KeyRegistry[] = [];
let keyDir: string | undefined;
after(async () => {
  for (const r of registries) r.close();
  await Promise.all(servers.map((s) => s.close()));
  if (keyDir) rmSync(keyDir, { recursive: true, force: true });
});

/** A temporary directory for this test file's key files, removed when its tests end. */
export function keyFileDir(): string {
  keyDir ??= mkdtempSync(join(tmpdir(), 'claimcheck-keys-'));
  return keyDir;
}

export function keyFile(name: string, content: string | Buffer): string {
  const p = join(keyFileDir(), name);
  writeFileSync(p, content);
  return p;
}

/** Local-source tests verify tokens at this fixed time (s): their key sets have no clock to follow. */
export const TOKEN_NOW_SEC = 1_800_000_000;

export function claimsAt(iss: string): { iss: string; aud: string; exp: number } {
  return { iss, aud: 'api', exp: TOKEN_NOW_SEC + 60 };
}

/** 'ok' or the failure's reason for `token` at TOKEN_NOW_SEC. */
export async function verdict(reg: KeyLookup, issuer: CompiledIssuer, token: string): Promise<string> {
  const r = await verifyToken(token, [issuer], reg, { nowSec: TOKEN_NOW_SEC, maxTokenBytes: 16384 });
  return r.ok ? 'ok' : r.reason;
}

export async function keyServer(keys: TestKey[], opts: { tls?: TestCa | null } = {}): Promise<JwksServer> {
  const s = await startJwksServer({ ...(opts.tls === null ? {} : { tls: opts.tls ?? ca() }), jwks: jwksOf(...keys) });
  servers.push(s);
  return s;
}

/** A JWKS endpoint under the test CA that answers `answered` requests with `keys`, then hangs. */
export async function stallingServer(keys: TestKey[], answered = 0): Promise<StallingEndpoint> {
  const s = await startStallingEndpoint({ tls: ca(), jwks: jwksOf(...keys), answered });
  servers.push(s);
  return s;
}

export { FakeScheduler };

type ExtraOptions = Omit<KeyRegistryOptions, 'scheduler' | 'logger'> & { logger?: KeyRegistryOptions['logger'] };

export function registry(clock = new FakeScheduler(), extra: ExtraOptions = {}): KeyRegistry {
  const r = new KeyRegistry({ logger: silentLogger(), scheduler: clock, ...extra });
  registries.push(r);
  return r;
}

/** Moves fake time, then waits for the fetches or reads that the timers due meanwhile started. */
export async function elapse(clock: FakeScheduler, reg: KeyRegistry, ms: number): Promise<void> {
  clock.advance(ms);
  await reg.idle();
}

/** Whether `p` is still pending once the I/O and promises ready now have run (one turn of the event loop). */
export async function stillPending(p: unknown): Promise<boolean> {
  const turn = new Promise<true>((resolve) => setImmediate(() => resolve(true)));
  return Promise.race([Promise.resolve(p).then(() => false), turn]);
}

/** An issuer whose JWKS is `s`, trusted through the test CA; algorithms include HS256 so that symmetric keys would be tried if let in. */
export function remoteIssuer(s: Pick<JwksServer, 'url' | 'jwksUrl'>, jwks: Partial<CompiledJwks> = {}, over: Partial<Omit<CompiledIssuer, 'jwks'>> = {}): CompiledIssuer {
  return makeIssuer({ issuer: s.url, algorithms: ['RS256', 'ES256', 'HS256'], ...over, jwks: { uri: s.jwksUrl, caBundle: ca().caCert, ...jwks } });
}

export async function load(reg: KeyRegistry, issuer: CompiledIssuer): Promise<KeySetStatus> {
  reg.sync([issuer]);
  await reg.waitReady(10_000);
  return statusOf(reg, issuer);
}

export function statusOf(reg: KeyRegistry, issuer: CompiledIssuer): KeySetStatus {
  const st = reg.status().find((s) => s.issuer === issuer.key);
  assert.ok(st, `no key set for ${issuer.key}`);
  return st;
}

/** The decision for a fresh token signed by `key` at the clock's time: 'ok' or the failure's reason. */
export async function decide(reg: KeyRegistry, issuer: CompiledIssuer, key: TestKey, nowMs: number, opts: { kid?: string; alg?: string } = {}): Promise<string> {
  const nowSec = Math.floor(nowMs / 1000);
  const token = await signToken({ iss: issuer.issuer, aud: 'api', exp: nowSec + 60 }, { key, ...opts });
  const r = await verifyToken(token, [issuer], reg, { nowSec, maxTokenBytes: 16384 });
  return r.ok ? 'ok' : r.reason;
}

/** Completed fetches counted by the metrics (a fetch is counted once its outcome is known). */
export async function fetchCount(metrics: Metrics, labels: { issuer: string; document?: string; outcome?: string }): Promise<number> {
  const { values } = await metrics.keyFetches.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, want]) => (v.labels as Record<string, unknown>)[k] === want))
    .reduce((sum, v) => sum + v.value, 0);
}

/** The value of one per-issuer gauge line in the Prometheus text, or undefined when absent. */
export async function gauge(metrics: Metrics, name: string, issuer: string): Promise<number | undefined> {
  const text = await metrics.registry.metrics();
  const m = new RegExp(`^${name}\\{issuer="${issuer.replace(/[/]/g, '\\/')}"\\} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

export interface CapturedLog {
  level: number;
  msg: string;
  [k: string]: unknown;
}

/** A real pino logger at debug level writing into an array; `raw` is every byte written, for secret checks. */
export function captureLogs(): { logger: pino.Logger; lines: CapturedLog[]; raw: () => string; messages: () => string[] } {
  const lines: CapturedLog[] = [];
  let raw = '';
  const logger = pino({ level: 'debug' }, {
    write(chunk: string) {
      raw += chunk;
      lines.push(JSON.parse(chunk) as CapturedLog);
    },
  });
  return { logger, lines, raw: () => raw, messages: () => lines.filter((l) => l.level >= 30).map((l) => l.msg) };
}
