import { skipFor } from '../helpers/skip.js';
/**
 * claimcheck in Kubernetes mode against a real API server, through real RBAC (a
 * ServiceAccount token bound to deploy/rbac/, not system:masters): what requests get.
 * One API server for the file; a fresh claimcheck namespace (and app namespaces) per test.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes, verify, type KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CompactEncrypt } from 'jose';
import { eventually } from '../helpers/claimcheck-process.js';
import { signRaw } from '../helpers/tokens.js';
import { k8sSkipReason, startKubeApiserver, type KubeApiserver } from './harness.js';
import {
  AUDIENCE, allowSecrets, bearer, condition, get, mergePatch, mustCreate, policySpec, remove, settled, startScenario, testIssuer,
  useApiserver,
} from './cluster-fixture.js';

const skip = skipFor('Kubernetes suite', k8sSkipReason());

describe('claimcheck serve --config-source kubernetes', { skip }, () => {
  let api: KubeApiserver;
  const { cleanups } = useApiserver(startKubeApiserver, (a) => { api = a; });

  const setup = (apps: number, opts: { replicas?: number } = {}) => startScenario(api, cleanups, apps, opts);

  test('an issuer and a policy created in the API server allow a request within 1 s; an edit applies; a delete denies', async (t) => {
    const { apps: [app], client } = await setup(1);
    const host = `${app}.example.com`;
    const idp = testIssuer();
    const token = await idp.token();
    assert.equal((await client.check({ host, path: '/api/x', headers: bearer(token) })).httpStatus, 403, 'no policy yet');

    let t0 = Date.now();
    await mustCreate(api, 'trustedissuers', app!, 'idp', idp.spec);
    await mustCreate(api, 'authpolicies', app!, 'p', policySpec(host, ['idp']));
    await eventually(async () => (await client.check({ host, path: '/api/x', headers: bearer(token) })).code === 0, 1_000, 20);
    t.diagnostic(`create to effect: ${Date.now() - t0} ms`);
    assert.equal((await client.check({ host, path: '/api/x' })).httpStatus, 401, 'anonymous is still denied');

    t0 = Date.now();
    await mergePatch(api, 'authpolicies', app!, 'p', { spec: { rules: [
      { name: 'public', match: { paths: ['/public/**'] }, action: 'allowAnonymous' },
      { name: 'read', match: { paths: ['/api/**'] }, require: { scopes: { anyOf: ['read'] } } },
    ] } });
    await eventually(async () => (await client.check({ host, path: '/public/x' })).code === 0, 1_000, 20);
    t.diagnostic(`edit to effect: ${Date.now() - t0} ms`);

    t0 = Date.now();
    await remove(api, 'authpolicies', app!, 'p');
    await eventually(async () => (await client.check({ host, path: '/public/x' })).httpStatus === 403, 1_000, 20);
    t.diagnostic(`delete to effect: ${Date.now() - t0} ms`);
    assert.equal((await client.check({ host, path: '/api/x', headers: bearer(token) })).httpStatus, 403);
  });

  test('a TokenRevocation denies the token on every replica within 2 s', async (t) => {
    const { apps: [app], clients } = await setup(1, { replicas: 2 });
    const host = `${app}.example.com`;
    const idp = testIssuer();
    const token = await idp.token({ jti: 'incident-jti' });
    const other = await idp.token();
    await mustCreate(api, 'trustedissuers', app!, 'idp', idp.spec);
    await mustCreate(api, 'authpolicies', app!, 'p', policySpec(host, ['idp']));
    for (const c of clients) await eventually(async () => (await c.check({ host, path: '/api/x', headers: bearer(token) })).code === 0, 2_000, 20);

    const t0 = Date.now();
    await mustCreate(api, 'tokenrevocations', app!, 'incident', { issuer: 'idp', jtis: ['incident-jti'] });
    for (const [i, c] of clients.entries()) {
      const denied = await settled(async () => {
        const r = await c.check({ host, path: '/api/x', headers: bearer(token) });
        return r.httpStatus === 401 ? r : undefined;
      }, 2_000 - (Date.now() - t0), 20);
      assert.match(denied.headers['www-authenticate'] ?? '', /error="invalid_token"/);
      t.diagnostic(`replica ${i + 1} denies ${Date.now() - t0} ms after the create`);
      assert.equal((await c.check({ host, path: '/api/x', headers: bearer(other) })).code, 0, 'other tokens still pass');
    }
  });

  test('an invalid resource is rejected alone, and a broken edit keeps the last good version serving', async () => {
    const { apps: [app], client } = await setup(1);
    const idp = testIssuer();
    const token = await idp.token();
    await mustCreate(api, 'trustedissuers', app!, 'idp', idp.spec);
    await mustCreate(api, 'authpolicies', app!, 'good', policySpec(`good.${app}.example`, ['idp']));
    await mustCreate(api, 'authpolicies', app!, 'bad', policySpec(`bad.${app}.example`, ['idp'], [{ name: 'r', match: { paths: ['/files/*.txt'] }, action: 'allowAnonymous' }]));
    await eventually(async () => (await client.check({ host: `good.${app}.example`, path: '/api/x', headers: bearer(token) })).code === 0, 2_000, 20);
    const bad = await settled(async () => condition(await get(api, 'authpolicies', app!, 'bad'), 'Accepted'), 5_000, 50);
    assert.deepEqual([bad.status, bad.reason], ['False', 'Invalid']);
    assert.equal((await client.check({ host: `bad.${app}.example`, path: '/files/a.txt' })).httpStatus, 403, 'the rejected policy is not served');

    await mergePatch(api, 'authpolicies', app!, 'good', { spec: { issuers: ['idp', 'no-such-issuer'] } });
    const broken = await settled(async () => {
      const c = condition(await get(api, 'authpolicies', app!, 'good'), 'Accepted');
      return c?.observedGeneration === 2 ? c : undefined;
    }, 5_000, 50);
    assert.equal(broken.status, 'False');
    assert.match(broken.message, /"no-such-issuer" not found.*still serving generation 1/);
    assert.equal((await client.check({ host: `good.${app}.example`, path: '/api/x', headers: bearer(token) })).code, 0, 'generation 1 keeps serving');

    await mergePatch(api, 'authpolicies', app!, 'good', { spec: { issuers: ['idp'] } });
    await eventually(async () => {
      const c = condition(await get(api, 'authpolicies', app!, 'good'), 'Accepted');
      return c?.observedGeneration === 3 && c.status === 'True';
    }, 5_000, 50);
  });

  test("issuers of claimcheck's namespace are visible mesh-wide, others only in their own namespace", async () => {
    const { ns, apps: [teamA, teamB], client } = await setup(2);
    const shared = testIssuer('shared', 'https://shared.example');
    const privateA = testIssuer('private-a', 'https://private-a.example');
    const ownShared = testIssuer('own-shared', 'https://own-shared.example');
    // the claimcheck namespace is watched even though --watch-namespaces lists only the apps
    await mustCreate(api, 'trustedissuers', ns, 'shared', shared.spec);
    await mustCreate(api, 'trustedissuers', teamA!, 'private', privateA.spec);
    await mustCreate(api, 'trustedissuers', teamA!, 'shared', ownShared.spec); // shadows the mesh-wide one in team A
    await mustCreate(api, 'authpolicies', teamA!, 'a', policySpec(`a.${teamA}.example`, ['private', 'shared']));
    await mustCreate(api, 'authpolicies', teamB!, 'b', policySpec(`b.${teamB}.example`, ['shared']));
    await mustCreate(api, 'authpolicies', teamB!, 'steal', policySpec(`steal.${teamB}.example`, ['private']));

    const ok = (host: string, token: string) => client.check({ host, path: '/api/x', headers: bearer(token) });
    await eventually(async () => (await ok(`b.${teamB}.example`, await shared.token())).code === 0, 2_000, 20);
    assert.equal((await ok(`a.${teamA}.example`, await privateA.token())).code, 0);
    assert.equal((await ok(`a.${teamA}.example`, await ownShared.token())).code, 0, "team A's own 'shared' issuer");
    assert.equal((await ok(`a.${teamA}.example`, await shared.token())).httpStatus, 401, 'the mesh-wide issuer is shadowed by the namespace-local one');
    const steal = await settled(async () => condition(await get(api, 'authpolicies', teamB!, 'steal'), 'ResolvedRefs'), 5_000, 50);
    assert.deepEqual([steal.status, steal.reason], ['False', 'IssuerNotFound']);
    assert.equal((await ok(`steal.${teamB}.example`, await privateA.token())).httpStatus, 403);
  });

  test('an HMAC issuer reads its key from the referenced Secret, and a rotated Secret takes effect', async () => {
    const { ns, apps: [app], client } = await setup(1);
    await allowSecrets(api, app!, ns);
    const host = `${app}.example.com`;
    const secretV1 = randomBytes(32).toString('hex');
    const secretV2 = randomBytes(32).toString('hex');
    const hsToken = (secret: string) => {
      const now = Math.floor(Date.now() / 1000);
      return signRaw({ alg: 'HS256', typ: 'JWT' }, { iss: 'https://hmac.example', aud: AUDIENCE, sub: 'svc', iat: now, exp: now + 600, scope: 'read' }, Buffer.from(secret), 'HS256');
    };
    const secretPath = `/api/v1/namespaces/${app}/secrets`;
    const created = await api.request('POST', secretPath, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'hmac-key' }, data: { key: Buffer.from(secretV1).toString('base64') } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    await mustCreate(api, 'trustedissuers', app!, 'hmac', { issuer: 'https://hmac.example', jwks: { secretRef: { name: 'hmac-key' } }, algorithms: ['HS256'], audiences: [AUDIENCE] });
    await mustCreate(api, 'authpolicies', app!, 'p', policySpec(host, ['hmac']));
    await eventually(async () => (await client.check({ host, path: '/api/x', headers: bearer(hsToken(secretV1)) })).code === 0, 5_000, 50);
    assert.equal((await client.check({ host, path: '/api/x', headers: bearer(hsToken(secretV2)) })).httpStatus, 401);

    const patched = await api.request('PATCH', `${secretPath}/hmac-key`, { data: { key: Buffer.from(secretV2).toString('base64') } }, 'application/merge-patch+json');
    assert.equal(patched.status, 200);
    await eventually(async () => (await client.check({ host, path: '/api/x', headers: bearer(hsToken(secretV2)) })).code === 0, 5_000, 50);
    assert.equal((await client.check({ host, path: '/api/x', headers: bearer(hsToken(secretV1)) })).httpStatus, 401, 'the old secret no longer verifies');
  });
  test('an encrypting issuer reads its decryption key from the referenced Secret, and a rotated Secret takes effect', async () => {
    const { ns, apps: [app], client } = await setup(1);
    await allowSecrets(api, app!, ns);
    const host = `${app}.example.com`;
    const idp = testIssuer('enc-signer');
    const [k1, k2] = [generateKeyPairSync('rsa', { modulusLength: 2048 }), generateKeyPairSync('rsa', { modulusLength: 2048 })];
    const secretOf = (k: typeof k1) => Buffer.from(JSON.stringify({ ...k.privateKey.export({ format: 'jwk' }), use: 'enc' })).toString('base64');
    const jweFor = async (k: typeof k1) =>
      new CompactEncrypt(new TextEncoder().encode(await idp.token())).setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', cty: 'JWT' }).encrypt(k.publicKey);
    const secretPath = `/api/v1/namespaces/${app}/secrets`;
    const created = await api.request('POST', secretPath, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'decrypt-key' }, data: { 'key.json': secretOf(k1) } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    await mustCreate(api, 'trustedissuers', app!, 'enc', { ...idp.spec, decryption: { secretRef: { name: 'decrypt-key', key: 'key.json' } } });
    await mustCreate(api, 'authpolicies', app!, 'p', policySpec(host, ['enc']));
    await eventually(async () => (await client.check({ host, path: '/api/x', headers: bearer(await jweFor(k1)) })).code === 0, 5_000, 50);
    assert.equal((await client.check({ host, path: '/api/x', headers: bearer(await jweFor(k2)) })).httpStatus, 401);
    const refs = await settled(async () => condition(await get(api, 'trustedissuers', app!, 'enc'), 'ResolvedRefs'), 5_000, 50);
    assert.equal(refs.status, 'True');
    assert.match(String(refs.message), /decrypt-key/);

    const patched = await api.request('PATCH', `${secretPath}/decrypt-key`, { data: { 'key.json': secretOf(k2) } }, 'application/merge-patch+json');
    assert.equal(patched.status, 200);
    await eventually(async () => (await client.check({ host, path: '/api/x', headers: bearer(await jweFor(k2)) })).code === 0, 5_000, 50);
    assert.equal((await client.check({ host, path: '/api/x', headers: bearer(await jweFor(k1)) })).httpStatus, 401, 'the old key no longer decrypts');
  });

  test('an introspection-only issuer signs its private_key_jwt assertion with the key in the referenced Secret, rotated too', async () => {
    const { ns, apps: [app], client } = await setup(1);
    await allowSecrets(api, app!, ns);
    const host = `${app}.example.com`;
    const [k1, k2] = [generateKeyPairSync('ec', { namedCurve: 'P-256' }), generateKeyPairSync('ec', { namedCurve: 'P-256' })];
    // the endpoint answers active only to an assertion signed by the key it trusts now
    let trusted: KeyObject = k1.publicKey;
    const endpoint = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c)).on('end', () => {
        const [h, p, sig] = (new URLSearchParams(Buffer.concat(chunks).toString()).get('client_assertion') ?? '..').split('.');
        const ok = verify('sha256', Buffer.from(`${h}.${p}`), { key: trusted, dsaEncoding: 'ieee-p1363' }, Buffer.from(sig ?? '', 'base64url'));
        res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
        res.end(JSON.stringify(ok ? { active: true, iss: 'https://opaque.example', aud: AUDIENCE, sub: 'ana', scope: 'read', exp: Math.floor(Date.now() / 1000) + 300 } : { error: 'invalid_client' }));
      });
    });
    await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
    cleanups.push(async () => void endpoint.close());
    const pem = (k: typeof k1) => Buffer.from(k.privateKey.export({ type: 'pkcs8', format: 'pem' })).toString('base64');
    const secretPath = `/api/v1/namespaces/${app}/secrets`;
    assert.equal((await api.request('POST', secretPath, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'client-key' }, data: { 'cc.pem': pem(k1) } })).status, 201);
    const introspection = { endpoint: `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/introspect`, clientId: 'claimcheck', clientKeyRef: { name: 'client-key', key: 'cc.pem' }, allowInsecureHttp: true };
    await mustCreate(api, 'trustedissuers', app!, 'opaque', { issuer: 'https://opaque.example', audiences: [AUDIENCE], introspection });
    await mustCreate(api, 'authpolicies', app!, 'p', policySpec(host, ['opaque']));
    const opaque = () => bearer(randomBytes(24).toString('base64url'));
    await eventually(async () => (await client.check({ host, path: '/api/x', headers: opaque() })).code === 0, 5_000, 50);
    // Unknown (Pending) until the status writer has read the Secret too
    const refs = await settled(async () => {
      const c = condition(await get(api, 'trustedissuers', app!, 'opaque'), 'ResolvedRefs');
      return c?.status === 'Unknown' ? undefined : c;
    }, 10_000, 100);
    assert.equal(refs.status, 'True');
    assert.match(String(refs.message), /client-key/);

    trusted = k2.publicKey;
    assert.equal((await client.check({ host, path: '/api/x', headers: opaque() })).httpStatus, 503, 'the endpoint refuses the old key');
    assert.equal((await api.request('PATCH', `${secretPath}/client-key`, { data: { 'cc.pem': pem(k2) } }, 'application/merge-patch+json')).status, 200);
    await eventually(async () => (await client.check({ host, path: '/api/x', headers: opaque() })).code === 0, 6_000, 100);
  });
});
