/**
 * Real nginx (auth_request) and Caddy (forward_auth), each with the configuration shipped in
 * deploy/, in front of a real upstream that echoes what reached it, asking a real claimcheck
 * serving the bundled examples on --authz-http-addr. docs/http-authz.md states each result.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importJWK, SignJWT } from 'jose';
import { REPO, startClaimcheck, type ClaimcheckProcess } from '../helpers/claimcheck-process.js';
import { startEchoUpstream, type EchoUpstream, type Received } from '../helpers/echo-upstream.js';
import { openHttp1, type Http1Connection, type Http1Response } from '../helpers/http1-connection.js';
import { freePort } from '../helpers/free-port.js';
import { PROXIES, startProxy, type RunningProxy } from '../helpers/proxies.js';
import { skipFor } from '../helpers/skip.js';

const HOST = 'shop.demo.local';
const one = (r: Http1Response, name: string) => r.headers.get(name)?.[0];

async function demoToken(claims: Record<string, unknown>): Promise<string> {
  const jwk = JSON.parse(await readFile(join(REPO, 'examples/demo-keys/demo-signing-key.private.jwk.json'), 'utf8')) as { kid: string };
  return new SignJWT({ sub: 'alice', tenant: 'acme', scope: 'api:read', ...claims })
    .setProtectedHeader({ alg: 'ES256', kid: jwk.kid, typ: 'JWT' })
    .setIssuer('https://demo.claimcheck.invalid')
    .setAudience('demo-api')
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(await importJWK(jwk, 'ES256'));
}

let cc: ClaimcheckProcess;
before(async () => {
  cc = await startClaimcheck({ configDir: join(REPO, 'examples'), args: ['--authz-http-addr', '127.0.0.1:0'] });
});
after(async () => {
  await cc?.stop();
});

for (const tool of PROXIES) {
  const skip = skipFor(`forward auth through ${tool.name}`, existsSync(tool.bin) ? undefined : `${tool.bin} is missing (scripts/proxy-tools.sh installs it; .ci/run runs that script)`);
  describe(`forward auth through ${tool.name} with ${tool.config}`, { skip }, () => {
    let dir: string;
    let upstream: EchoUpstream;
    let proxy: RunningProxy;
    let conn: Http1Connection;
    let token: string;
    const send = async (target: string, headers: [string, string][] = []) => {
      const before = upstream.received.length;
      const r = await conn.request('GET', target, [['host', HOST], ...headers]);
      const reached: Received | undefined = upstream.received.length > before ? upstream.received.at(-1) : undefined;
      return { r, reached };
    };

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), `cc-${tool.name}-`));
      upstream = await startEchoUpstream();
      proxy = await startProxy(tool, dir, { claimcheck: cc.authzHttpPort, upstream: upstream.port });
      conn = await openHttp1({ port: proxy.port });
      token = await demoToken({});
    });
    after(async () => {
      conn?.close();
      await proxy?.stop();
      await upstream?.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    test('a valid token reaches the upstream with the identity headers; the client\'s copies and the token do not', async () => {
      const { r, reached } = await send('/api/items?page=2', [['authorization', `Bearer ${token}`], ['x-user-id', 'admin'], ['x-scopes', 'admin'], ['x-tenant', 'globex']]);
      assert.equal(r.status, 200, `${r.body}\n${await proxy.log()}`);
      assert.ok(reached, 'the upstream was reached');
      assert.equal(reached.url, '/api/items?page=2');
      assert.equal(reached.headers['x-user-id'], 'alice');
      assert.equal(reached.headers['x-scopes'], 'api:read');
      assert.equal(reached.headers['x-tenant'], 'acme');
      assert.equal(reached.headers.authorization, undefined, 'forwardToken: false in the demo policy');
    });

    test('an anonymous rule: the client\'s x-user-id never reaches the upstream', async () => {
      const { r, reached } = await send('/healthz', [['x-user-id', 'admin'], ['x-tenant', 'globex']]);
      assert.equal(r.status, 200, r.body);
      assert.ok(reached);
      assert.equal(reached.headers['x-user-id'], undefined);
      assert.equal(reached.headers['x-tenant'], undefined);
    });

    test('an alias of an identity header (x_user_id, x.tenant) never reaches the upstream: the proxy drops it', async () => {
      // nginx: ignore_invalid_headers (on by default); Caddy 2.11 drops such names too. A proxy
      // that passes them on to the check gets a 400 from claimcheck (http-authz-listener.test.ts).
      const { r, reached } = await send('/api/items', [['authorization', `Bearer ${token}`], ['x_user_id', 'admin'], ['x.tenant', 'globex']]);
      assert.equal(r.status, 200, r.body);
      assert.ok(reached);
      assert.equal(reached.headers['x_user_id'], undefined);
      assert.equal(reached.headers['x.tenant'], undefined);
      assert.equal(reached.headers['x-user-id'], 'alice');
    });

    test('no token: 401 with the Bearer challenge at the client, the upstream not reached', async () => {
      const { r, reached } = await send('/api/items');
      assert.equal(r.status, 401);
      assert.equal(reached, undefined);
      assert.deepEqual(r.headers.get('www-authenticate'), [`Bearer realm="${HOST}"`]);
      assert.equal(JSON.parse(r.body).error, 'unauthorized');
    });

    test('an invalid token: 401 invalid_token', async () => {
      const { r, reached } = await send('/api/items', [['authorization', `Bearer ${token.slice(0, -4)}AAAA`]]);
      assert.equal(r.status, 401);
      assert.equal(reached, undefined);
      assert.match(one(r, 'www-authenticate') ?? '', /error="invalid_token"/);
      assert.equal(JSON.parse(r.body).error, 'invalid_token');
    });

    test('a missing scope: 403 with insufficient_scope in the challenge and the body', async () => {
      const { r, reached } = await send('/admin/users', [['authorization', `Bearer ${token}`]]);
      assert.equal(r.status, 403);
      assert.equal(reached, undefined);
      assert.match(one(r, 'www-authenticate') ?? '', /error="insufficient_scope", scope="admin"/);
      assert.equal(JSON.parse(r.body).error, 'insufficient_scope');
    });

    test('a deny rule: 403 access_denied', async () => {
      const { r, reached } = await send('/legacy/report', [['authorization', `Bearer ${token}`]]);
      assert.equal(r.status, 403);
      assert.equal(reached, undefined);
      assert.equal(JSON.parse(r.body).error, 'access_denied');
    });

    test('the client cannot choose what is decided: the proxy replaces its X-Forwarded-*', async () => {
      const { r, reached } = await send('/api/items', [['x-forwarded-uri', '/healthz'], ['x-forwarded-method', 'HEAD'], ['x-forwarded-host', 'localhost']]);
      assert.equal(r.status, 401, 'decided on /api/items, not on the client\'s /healthz');
      assert.equal(reached, undefined);
    });

    test('a client\'s X-Original-*: removed by nginx (401), passed on by Caddy and refused as conflicting (400)', async () => {
      const { r, reached } = await send('/api/items', [['x-original-uri', '/healthz'], ['x-original-url', `http://${HOST}/healthz`], ['x-original-method', 'HEAD']]);
      assert.equal(r.status, tool.name === 'nginx' ? 401 : 400, r.body);
      assert.equal(reached, undefined);
    });

    test('a path with ..: 400 invalid_request at the client, the upstream not reached (docs/http-authz.md)', async (t) => {
      // its own connection: nginx closes the client's after an answer that went through its 500
      const own = await openHttp1({ port: proxy.port });
      const r = await own.request('GET', '/api/../admin/users', [['host', HOST], ['authorization', `Bearer ${token}`]]);
      own.close();
      t.diagnostic(`connection: ${one(r, 'connection') ?? '(none)'}`);
      assert.equal(r.status, 400, r.body);
      assert.ok(!upstream.received.some((seen) => seen.url.includes('admin')));
      assert.equal(JSON.parse(r.body).error, 'invalid_request');
    });

    test('keep-alive: the client connection served every answer above, and serves more', async () => {
      for (let i = 0; i < 5; i++) {
        const { r } = await send(i % 2 ? '/api/items' : '/healthz', i % 2 ? [['authorization', `Bearer ${token}`]] : []);
        assert.equal(r.status, 200);
        assert.equal(r.closed, false);
      }
      assert.equal(conn.socket.destroyed, false);
    });
  });
}

describe('fail closed when claimcheck cannot be reached', () => {
  for (const tool of PROXIES) {
    const skip = skipFor(`${tool.name} without claimcheck`, existsSync(tool.bin) ? undefined : `${tool.bin} is missing (scripts/proxy-tools.sh installs it)`);
    test(`${tool.name}: an error answer, never the upstream`, { skip }, async (t) => {
      const dir = await mkdtemp(join(tmpdir(), `cc-${tool.name}-down-`));
      const upstream = await startEchoUpstream();
      const proxy = await startProxy(tool, dir, { claimcheck: await freePort(), upstream: upstream.port });
      try {
        const conn = await openHttp1({ port: proxy.port });
        const r = await conn.request('GET', '/healthz', [['host', HOST]]);
        conn.close();
        t.diagnostic(`status ${r.status}, body ${r.body}`);
        // nginx: its 500 page gives 503 (deploy/nginx); Caddy answers 502 itself
        assert.equal(r.status, tool.name === 'nginx' ? 503 : 502);
        assert.equal(upstream.received.length, 0);
      } finally {
        await proxy.stop();
        await upstream.close();
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
});
