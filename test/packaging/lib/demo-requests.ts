/**
 * One allowed and one denied request through a running claimcheck, as the README's
 * walkthrough does: tokens come from the real `claimcheck demo-token` command (the
 * bundled DEMO key), Checks from a client built on Envoy's own protos.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { BIN } from '../../helpers/claimcheck-process.js';
import { createEnvoyClient } from '../../helpers/envoy-client.js';

export function demoToken(scope: string, opts: { bin?: string; sub?: string } = {}): string {
  const r = spawnSync(process.execPath, [opts.bin ?? BIN, 'demo-token', '--sub', opts.sub ?? 'alice', '--scope', scope], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

/** A valid token is allowed (with the identity header), no token is a 401 with a challenge. */
export async function assertAllowsAndDenies(grpcAddress: string, req: { host: string; path: string; scope: string; bin?: string }): Promise<void> {
  const client = createEnvoyClient(grpcAddress);
  try {
    const allowed = await client.check({ host: req.host, path: req.path, headers: { authorization: `Bearer ${demoToken(req.scope, { bin: req.bin })}` } });
    assert.equal(allowed.code, 0, `expected allow, got ${JSON.stringify(allowed.raw?.status)} ${allowed.body ?? ''}`);
    assert.equal(allowed.headers['x-user-id'], 'alice');

    const denied = await client.check({ host: req.host, path: req.path });
    assert.equal(denied.code, 16);
    assert.equal(denied.httpStatus, 401);
    assert.match(denied.headers['www-authenticate'] ?? '', /^Bearer realm=/);
  } finally {
    client.close();
  }
}
