/** The HTTP authorization listener with a stand-in Check handler: what it does when the handler fails. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startAuthzHttpServer } from '../../src/http-authz/authz-http-server.js';
import { readAuthzRequest } from '../../src/http-authz/read-authz-request.js';
import type { AuthRequest } from '../../src/request.js';
import type { ResponsePlan } from '../../src/respond/plan.js';
import { openHttp1 } from '../helpers/http1-connection.js';

const OK: ResponsePlan = { kind: 'ok', headersToSet: [{ name: 'x-user-id', value: 'alice' }], headersToRemove: ['x-tenant', 'x-claimcheck-role'] };

async function serve(check: (r: AuthRequest) => ResponsePlan | Promise<ResponsePlan>) {
  const errors: unknown[] = [];
  const server = await startAuthzHttpServer({ addr: '127.0.0.1:0', check, onInternalError: (e) => errors.push(e) });
  const conn = await openHttp1({ port: server.port! });
  return { server, conn, errors, close: async () => { conn.close(); await server.drain(1000); } };
}

describe('HTTP authorization listener', () => {
  test('an exception, a rejected promise and a broken plan are each a deny on a usable connection: 403 on /ext-authz, 503 on /forward-auth', async () => {
    let mode = 0;
    const s = await serve(() => {
      mode++;
      if (mode === 1) throw new Error('boom');
      if (mode === 2) return Promise.reject(new Error('later boom'));
      if (mode === 3 || mode === 6) return { kind: 'ok', headersToSet: [{ name: 'bad name', value: 'x' }], headersToRemove: [] };
      if (mode === 4) throw new Error('boom');
      if (mode === 5) return Promise.reject(new Error('later boom'));
      return Promise.resolve(OK);
    });
    try {
      // a 5xx would be an error to Envoy, which failure_mode_allow lets through (write-authz-answer.ts)
      const targets: [string, number, [string, string][]][] = [['/ext-authz/x', 403, []], ['/forward-auth', 503, [['x-forwarded-uri', '/x']]]];
      for (const [target, status, extra] of targets) {
        for (let i = 0; i < 3; i++) {
          const r = await s.conn.request('GET', target, [['host', 'a.example'], ...extra]);
          assert.equal(r.status, status, `${target} case ${i + 1}`);
          assert.equal(JSON.parse(r.body).error, 'temporarily_unavailable');
          assert.equal(r.closed, false);
        }
      }
      assert.equal(s.errors.length, 6, 'each failure is reported');
      const ok = await s.conn.request('GET', '/ext-authz/x', [['host', 'a.example']]);
      assert.equal(ok.status, 200);
      assert.deepEqual(ok.headers.get('x-user-id'), ['alice']);
      assert.deepEqual(ok.headers.get('x-envoy-auth-headers-to-remove'), ['x-tenant, x-claimcheck-role']);
    } finally {
      await s.close();
    }
  });

  test('drain lets an in-flight request finish, then closes', async () => {
    let release!: () => void;
    const s = await serve(() => new Promise<ResponsePlan>((resolve) => (release = () => resolve(OK))));
    const pending = s.conn.request('GET', '/ext-authz/x', [['host', 'a.example']]);
    await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    const drained = s.server.drain(5000);
    release();
    const r = await pending;
    assert.equal(r.status, 200);
    assert.equal(r.closed, true, 'the answer during drain closes its connection');
    await drained;
    assert.ok(Date.now() - started < 2000, `drained in ${Date.now() - started} ms, not at the deadline`);
    s.conn.close();
  });
});

describe('reading an HTTP authorization request', () => {
  const read = (url: string, headers: [string, string][], method = 'GET') => readAuthzRequest({ method, url, rawHeaders: headers.flat() });

  test('ext-authz: method, Host and the path after the prefix; connection headers dropped', () => {
    const r = read('/ext-authz/a/b?c=1', [['Host', 'App.Example'], ['Connection', 'keep-alive'], ['Content-Length', '0'], ['X-Forwarded-Uri', '/other'], ['Cookie', 'a=1'], ['Cookie', 'b=2']], 'DELETE');
    assert.ok(r.ok);
    assert.equal(r.convention, 'ext-authz');
    assert.deepEqual([r.request.method, r.request.host, r.request.path, r.request.scheme], ['DELETE', 'App.Example', '/a/b?c=1', '']);
    assert.equal(r.request.headers.get('connection'), undefined);
    assert.equal(r.request.headers.get('content-length'), undefined);
    assert.deepEqual(r.request.headers.get('cookie'), ['a=1', 'b=2']);
    assert.deepEqual(r.request.headers.get('x-forwarded-uri'), ['/other']);
  });

  test('forward auth: X-Forwarded-*, or X-Original-*, or X-Original-URL', () => {
    const a = read('/forward-auth', [['Host', 'cc:9292'], ['X-Forwarded-Uri', '/p?q'], ['X-Original-URI', '/p?q'], ['X-Forwarded-Method', 'PUT'], ['X-Forwarded-Host', 'h.example'], ['X-Forwarded-Proto', 'HTTPS']]);
    assert.ok(a.ok);
    assert.deepEqual([a.request.method, a.request.host, a.request.path, a.request.scheme], ['PUT', 'h.example', '/p?q', 'https']);
    const b = read('/forward-auth', [['Host', 'cc:9292'], ['X-Original-URI', '/nginx'], ['X-Original-Method', 'POST']]);
    assert.ok(b.ok);
    assert.deepEqual([b.request.method, b.request.host, b.request.path], ['POST', 'cc:9292', '/nginx']);
    const c = read('/forward-auth?ignored', [['Host', 'cc:9292'], ['X-Original-URL', 'http://i.example:8443/x/y?z']], 'HEAD');
    assert.ok(c.ok);
    assert.deepEqual([c.request.method, c.request.host, c.request.path, c.request.scheme], ['HEAD', 'i.example:8443', '/x/y?z', 'http']);
    const d = read('/forward-auth', [['X-Original-URL', 'https://i.example']]);
    assert.ok(d.ok);
    assert.equal(d.request.path, '/');
  });

  test('refusals: no URI header, and paths that are not an endpoint', () => {
    assert.deepEqual(read('/forward-auth', [['Host', 'h']]), { ok: false, reason: 'missing_original_uri' });
    for (const url of ['/', '/ext-authz', '/ext-authzx', '/forward-auth/x', '/forward-authz']) assert.deepEqual(read(url, []), { ok: false, reason: 'unknown_endpoint' }, url);
  });

  test('forward auth: steering headers that disagree, or come twice, are refused rather than picked from', () => {
    const conflict = { ok: false, reason: 'conflicting_original_request' };
    const ingress = (extra: [string, string][]) => read('/forward-auth', [['Host', 'cc'], ['X-Original-URL', 'https://shop.example/api/items?x=1'], ['X-Original-Method', 'POST'], ...extra]);
    // what a client could add through ingress-nginx, which passes its headers on
    assert.deepEqual(ingress([['X-Forwarded-Uri', '/healthz']]), conflict);
    assert.deepEqual(ingress([['X-Original-URI', '/healthz']]), conflict);
    assert.deepEqual(ingress([['X-Forwarded-Host', 'other.example']]), conflict);
    assert.deepEqual(ingress([['X-Forwarded-Method', 'GET']]), conflict);
    assert.deepEqual(read('/forward-auth', [['X-Forwarded-Uri', '/a'], ['X-Original-URI', '/b']]), conflict);
    assert.deepEqual(read('/forward-auth', [['X-Forwarded-Uri', '/a'], ['X-Forwarded-Uri', '/a']]), conflict);
    assert.deepEqual(read('/forward-auth', [['X-Forwarded-Uri', '/a'], ['X-Forwarded-Host', 'h'], ['x-forwarded-host', 'i']]), conflict);
    // the same facts twice over agree: ingress-nginx with the headers set by the shipped ConfigMap
    const same = ingress([['X-Forwarded-Uri', '/api/items?x=1'], ['X-Forwarded-Host', 'SHOP.example'], ['X-Forwarded-Method', 'POST']]);
    assert.ok(same.ok);
    assert.deepEqual([same.request.method, same.request.host, same.request.path], ['POST', 'SHOP.example', '/api/items?x=1']);
  });
});
