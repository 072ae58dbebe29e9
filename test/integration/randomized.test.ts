import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type Fixture } from '../helpers/fixture-config.js';
import type { ClaimcheckProcess } from '../helpers/claimcheck-process.js';
import { startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { createEnvoyClient, type CheckInput } from '../helpers/envoy-client.js';
import { mulberry32 } from '../helpers/prng.js';

const COUNT = 10_000;

describe('randomized CheckRequests', () => {
  let fx: Fixture;
  let cc: ClaimcheckProcess;
  let client: ReturnType<typeof createEnvoyClient>;
  let server: FixtureServer | undefined;
  before(async () => {
    server = await startFixtureServer();
    ({ fx, cc, client } = server);
  });
  after(async () => {
    await server?.close();
  });

  test(`${COUNT} random requests: no crash, no empty response, no allow without a valid token on a protected rule`, async () => {
    // a fixed seed, so CI runs the same cases every time; FUZZ_SEED explores others
    const seed = Number(process.env.FUZZ_SEED ?? 424242);
    const rnd = mulberry32(seed); // replayable from the printed seed
    const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
    const valid = new Map<string, string>();
    for (let i = 0; i < 8; i++) {
      const sub = `user-${i}`;
      valid.set(await fx.sign({ sub, scope: 'payments:read payments:write', tenant: 'acme' }), sub);
    }
    const validTokens = [...valid.keys()];
    const junk = () => {
      const chars = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.=,;: %/\\"\'\u0000\u00ff\u2028{}[]';
      let s = '';
      const n = Math.floor(rnd() * 60);
      for (let i = 0; i < n; i++) s += chars[Math.floor(rnd() * chars.length)];
      return s;
    };
    const mutate = (t: string) => {
      const parts = t.split('.');
      switch (Math.floor(rnd() * 8)) {
        case 0: return parts.slice(0, 2).join('.') + '.';
        case 1: return `${parts[0]}.${parts[1]}X.${parts[2]}`;
        case 2: return t.slice(0, Math.floor(rnd() * t.length));
        case 3: return `${parts[0]}.${parts[1]}.${parts[2]!.split('').reverse().join('')}`;
        case 4: return `eyJhbGciOiJub25lIn0.${parts[1]}.`;
        case 5: return t + '.' + junk();
        case 6: return junk();
        default: return t.replace(/[A-Za-z]/, (c) => (c === 'A' ? 'B' : 'A'));
      }
    };
    const anonymousPaths = ['/healthz', '//healthz', '/./healthz', '/%68ealthz', '/healthz?probe=1'];
    const protectedPrefixes = ['/v1/', '/v1/payments/', '/v0/', '/admin/', '/', '/v1/payments'];
    const hosts = ['payments.example.com', 'PAYMENTS.EXAMPLE.COM:443', 'x.payments.svc.cluster.local', 'payments.example.com.', 'evil.com', '', '[::1]:80', junk()];
    const methods = ['GET', 'POST', 'PUT', 'DELETE', 'get', 'OPTIONS', junk()];
    const cases: { input: CheckInput; anonymousOk: boolean }[] = [];
    for (let i = 0; i < COUNT; i++) {
      const method = pick(methods);
      const anon = rnd() < 0.15;
      const path = anon ? pick(anonymousPaths) : pick(protectedPrefixes) + (rnd() < 0.5 ? junk() : pick(['a', 'b/c', '..', '%2e%2e', 'x%2Fy', '', '//z', '.', '~']));
      const headers: Record<string, string> = {};
      const r = rnd();
      if (r < 0.3) headers.authorization = `Bearer ${pick(validTokens)}`;
      else if (r < 0.6) headers.authorization = `${pick(['Bearer ', 'bearer ', 'BEARER  ', 'Basic ', 'Bearer'])}${mutate(pick(validTokens))}`;
      else if (r < 0.7) headers.authorization = junk();
      if (rnd() < 0.3) headers['x-user-id'] = 'admin';
      if (rnd() < 0.1) headers['x-claimcheck-' + junk().replace(/[^a-z]/g, '')] = junk();
      if (rnd() < 0.1) headers.cookie = `session=${mutate(pick(validTokens))}`;
      if (rnd() < 0.05) headers[junk().toLowerCase().replace(/[^a-z-]/g, '') || 'x'] = junk();
      const useMap = rnd() < 0.3;
      const input: CheckInput = { host: pick(hosts), path, method };
      if (useMap) input.headerMap = Object.entries(headers);
      else input.headers = headers;
      // Methods match case-insensitively (a lowercase `delete` must not slip past a DELETE rule).
      cases.push({ input, anonymousOk: anon && method.toUpperCase() === 'GET' });
    }

    let next = 0;
    let allowedWithToken = 0;
    const failures: string[] = [];
    const worker = async () => {
      while (next < cases.length) {
        const c = cases[next++]!;
        const r = await client.check(c.input);
        assert.ok(r.raw && r.raw.status, 'a CheckResponse always carries a status');
        assert.equal(typeof r.code, 'number');
        if (r.code !== 0) {
          assert.ok([3, 7, 16].includes(r.code), `unexpected code ${r.code} (503 would mean an internal error) for ${JSON.stringify(c.input)}`);
          assert.ok(r.httpStatus && r.httpStatus >= 400, 'a deny carries an HTTP status');
          continue;
        }
        const sub = r.headers['x-user-id'];
        if (sub !== undefined) {
          const auth = c.input.headers?.authorization ?? c.input.headerMap?.find(([k]) => k === 'authorization')?.[1] ?? '';
          const token = auth.replace(/^bearer\s+/i, '');
          if (valid.get(token) !== sub) failures.push(`identity ${sub} without its valid token: ${JSON.stringify(c.input)}`);
          allowedWithToken++;
        } else if (!c.anonymousOk) {
          failures.push(`allowed without a valid token on a protected rule: ${JSON.stringify(c.input)}`);
        }
        if (r.headers['x-user-id'] === 'admin') failures.push('spoofed identity reached the upstream');
      }
    };
    await Promise.all(Array.from({ length: 32 }, worker));
    assert.deepEqual(failures.slice(0, 5), [], `seed ${seed}`);
    assert.ok(allowedWithToken > 100, `some valid tokens were allowed (${allowedWithToken}); the test exercises the allow path`);
    assert.equal(cc.child.exitCode, null, 'the server is still running');
  });
});
