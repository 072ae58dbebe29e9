/**
 * h2spec (HTTP/2 conformance, RFC 7540/9113 and HPACK) against claimcheck's gRPC listener and,
 * in the same run, against a bare node:http2 server with the same SETTINGS: what node:http2
 * itself fails is not claimcheck's to fix, so the listener must add no failure of its own.
 * Some cases pass or fail by timing (whether the server has answered a stream before h2spec's
 * next frame on it arrives), so each server is run twice: a case is claimcheck's own only if
 * it fails on claimcheck both times and on the bare server neither time, and keeps doing so
 * when its section is run again up to five times.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import * as http2 from 'node:http2';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { HealthState } from '../../src/grpc/health.js';
import { CHECK_PATH, DEFAULT_LISTENER, startGrpcServer } from '../../src/grpc/server.js';
import { skipFor } from '../helpers/skip.js';

// the version scripts/h2spec-tool.sh builds
const H2SPEC = join(process.env.CLAIMCHECK_CACHE ?? join(homedir(), '.cache', 'claimcheck'), 'h2spec-v2.2.1+incompatible', 'bin', 'h2spec');
const skip = skipFor('h2spec', existsSync(H2SPEC) ? undefined : 'h2spec is not built (scripts/h2spec-tool.sh builds it; .ci/run runs that script)');

/** The cases h2spec reports as failed: "package: description", from its JUnit report. */
async function h2specFailures(port: number, dir: string, name: string, sections: readonly string[] = []): Promise<{ failed: Set<string>; summary: string }> {
  const report = join(dir, `${name}.xml`);
  const summary = await new Promise<string>((resolve) => {
    // exits 1 when a case fails; the report says which
    execFile(H2SPEC, ['-h', '127.0.0.1', '-p', String(port), '-P', CHECK_PATH, '-o', '2', '-j', report, ...sections], { maxBuffer: 16 * 1024 * 1024 }, (_err, stdout) => {
      resolve(/\d+ tests, .*/.exec(stdout)?.[0] ?? stdout.slice(-300));
    });
  });
  const xml = await readFile(report, 'latin1');
  const failed = new Set<string>();
  for (const m of xml.matchAll(/<testcase package="([^"]*)" classname="([^"]*)"[^>]*>\s*<(error|failure)/g)) failed.add(`${m[1]}: ${m[2]}`);
  return { failed, summary };
}

test("claimcheck's gRPC listener fails no h2spec case that a bare node:http2 server passes", { skip, timeout: 300_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'claimcheck-h2spec-'));
  const bare = http2.createServer({ settings: { maxConcurrentStreams: DEFAULT_LISTENER.maxConcurrentStreams } });
  bare.on('stream', (stream) => {
    stream.on('error', () => undefined);
    stream.respond({ ':status': 200 });
    stream.end('ok');
  });
  bare.on('sessionError', () => undefined);
  await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
  const listener = await startGrpcServer({ addr: '127.0.0.1:0', health: new HealthState(true), check: () => ({ kind: 'ok', headersToSet: [], headersToRemove: [] }) });
  try {
    const runs: { bare: Awaited<ReturnType<typeof h2specFailures>>; ours: Awaited<ReturnType<typeof h2specFailures>> }[] = [];
    for (let i = 0; i < 2; i++) {
      runs.push({ bare: await h2specFailures((bare.address() as AddressInfo).port, dir, `bare-${i}`), ours: await h2specFailures(listener.port!, dir, `claimcheck-${i}`) });
    }
    for (const r of runs) {
      t.diagnostic(`bare node:http2: ${r.bare.summary}; claimcheck: ${r.ours.summary}`);
      assert.match(r.ours.summary, /^14\d tests/, 'h2spec ran every case');
    }
    const bareFails = new Set(runs.flatMap((r) => [...r.bare.failed]));
    for (const f of bareFails) t.diagnostic(`node:http2 itself fails ${f}`);
    let ownFails = [...runs[0]!.ours.failed].filter((f) => runs[1]!.ours.failed.has(f) && !bareFails.has(f));
    // A timing case fails now and then on either server (in one CI run, 5.1 "half closed
    // (remote): Sends a DATA frame" failed on claimcheck twice and on the bare server in
    // neither run; locally the bare server fails it too). Such a case is run again, alone
    // with its section, up to five times: it stays claimcheck's only while claimcheck fails
    // it every time and the bare server never does.
    for (let i = 0; i < 5 && ownFails.length > 0; i++) {
      const sections = [...new Set(ownFails.map((f) => f.slice(0, f.indexOf(':'))))];
      const bareAgain = await h2specFailures((bare.address() as AddressInfo).port, dir, `bare-again-${i}`, sections);
      const oursAgain = await h2specFailures(listener.port!, dir, `claimcheck-again-${i}`, sections);
      t.diagnostic(`again ${sections.join(' ')}: bare fails ${[...bareAgain.failed].join('; ') || 'nothing'}, claimcheck fails ${[...oursAgain.failed].join('; ') || 'nothing'}`);
      ownFails = ownFails.filter((f) => oursAgain.failed.has(f) && !bareAgain.failed.has(f));
    }
    assert.deepEqual(ownFails, [], 'failures the bare server does not have');
  } finally {
    await listener.drain(2000);
    bare.close();
    await rm(dir, { recursive: true, force: true });
  }
});
