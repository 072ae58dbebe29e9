/**
 * claimcheck in Kubernetes mode against a real API server, through real RBAC (a
 * ServiceAccount token bound to deploy/rbac/, not system:masters). One API server for the
 * file; a fresh claimcheck namespace (and app namespaces) per test.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { eventually, type ClaimcheckProcess } from '../helpers/claimcheck-process.js';
import { createEnvoyClient, type EnvoyClient } from '../helpers/envoy-client.js';
import { signRaw } from '../helpers/tokens.js';
import { k8sSkipReason, startKubeApiserver, type KubeApiserver } from './harness.js';
import {
  AUDIENCE, allowSecrets, bearer, claimcheckIdentity, condition, createNamespace, get, installCrds, mergePatch, mustCreate,
  policySpec, remove, settled, startK8sClaimcheck, testIssuer,
} from './cluster-fixture.js';

const reason = k8sSkipReason();
const skip = reason ? `SKIP Kubernetes suite: ${reason}` : false;

describe('claimcheck serve --config-source kubernetes', { skip }, () => {
  let api: KubeApiserver;
  const cleanups: (() => Promise<void> | void)[] = [];

  before(async () => {
    api = await startKubeApiserver();
    await installCrds(api);
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  after(async () => {
    await api?.stop();
  });

  /** claimcheck's namespace with its RBAC, app namespaces, and a process watching them. */
  async function setup(apps: number, opts: { replicas?: number; podNames?: string[] } = {}) {
    const ns = await createNamespace(api, 'cc');
    const kubeconfig = await claimcheckIdentity(api, ns);
    const appNs: string[] = [];
    for (let i = 0; i < apps; i++) appNs.push(await createNamespace(api, 'app'));
    const procs: ClaimcheckProcess[] = [];
    const clients: EnvoyClient[] = [];
    for (let i = 0; i < (opts.replicas ?? 1); i++) {
      const cc = await startK8sClaimcheck({ kubeconfig, namespace: ns, args: ['--watch-namespaces', appNs.join(',')], ...(opts.podNames ? { podName: opts.podNames[i]! } : {}) });
      procs.push(cc);
      const client = createEnvoyClient(cc.grpcAddress);
      clients.push(client);
      cleanups.push(async () => { client.close(); await cc.stop(); });
    }
    return { ns, kubeconfig, apps: appNs, procs, clients, client: clients[0]! };
  }

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

  test('only the Lease holder writes status; when it is killed the other replica takes over and writes', async () => {
    const ns = await createNamespace(api, 'cc');
    const kubeconfig = await claimcheckIdentity(api, ns);
    const app = await createNamespace(api, 'app');
    const start = async (podName: string) => {
      const cc = await startK8sClaimcheck({ kubeconfig, namespace: ns, podName, args: ['--watch-namespaces', app] });
      cleanups.push(() => cc.stop().then(() => undefined));
      return cc;
    };
    const first = await start('replica-a');
    await first.waitForLog((l) => l.msg === 'became leader: writing status', 10_000);
    const second = await start('replica-b');

    const idp = testIssuer();
    await mustCreate(api, 'trustedissuers', app, 'idp', idp.spec);
    await mustCreate(api, 'authpolicies', app, 'p1', policySpec(`${app}.example.com`, ['idp']));
    await eventually(async () => condition(await get(api, 'authpolicies', app, 'p1'), 'Accepted')?.status === 'True', 5_000, 50);
    await eventually(async () => condition(await get(api, 'trustedissuers', app, 'idp'), 'KeysReady')?.status === 'True', 5_000, 50);

    const lease = async () => (await api.request('GET', `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/claimcheck-status`)).body;
    assert.equal((await lease()).spec.holderIdentity, 'replica-a');
    const statusManagers = async (plural: 'authpolicies' | 'trustedissuers', name: string) =>
      ((await get(api, plural, app, name)).metadata.managedFields ?? []).filter((f: any) => f.subresource === 'status').map((f: any) => f.manager);
    assert.deepEqual(await statusManagers('authpolicies', 'p1'), ['claimcheck-replica-a']);
    assert.deepEqual(await statusManagers('trustedissuers', 'idp'), ['claimcheck-replica-a']);
    assert.ok(first.logs.some((l) => l.msg === 'status updated'), 'the leader wrote status');
    assert.ok(!second.logs.some((l) => l.msg === 'status updated' || l.msg === 'became leader: writing status'), 'the follower never wrote status');

    await first.stop('SIGKILL');
    await second.waitForLog((l) => l.msg === 'became leader: writing status', 15_000);
    assert.equal((await lease()).spec.holderIdentity, 'replica-b');
    await mustCreate(api, 'authpolicies', app, 'p2', policySpec(`${app}-2.example.com`, ['idp']));
    await eventually(async () => condition(await get(api, 'authpolicies', app, 'p2'), 'Accepted')?.status === 'True', 5_000, 50);
    assert.deepEqual(await statusManagers('authpolicies', 'p2'), ['claimcheck-replica-b']);

    // a graceful stop releases the Lease: the next replica need not wait out the 3 s lease
    const third = await start('replica-c');
    const t0 = Date.now();
    await second.stop('SIGTERM');
    await third.waitForLog((l) => l.msg === 'became leader: writing status', 10_000);
    assert.ok(second.logs.some((l) => l.msg === 'leader lease released'));
    assert.ok(Date.now() - t0 < 3_000, `took over ${Date.now() - t0} ms after the stop`);
  });

  test('status conditions, Events and printer columns read back as expected', async () => {
    const { ns, apps: [app, noSecrets] } = await setup(2);
    await allowSecrets(api, app!, ns);
    const idp = testIssuer('kid-a');
    const hmacSpec = { issuer: 'https://hmac.example', jwks: { secretRef: { name: 'missing' } }, algorithms: ['HS256'], audiences: [AUDIENCE] };
    await mustCreate(api, 'trustedissuers', app!, 'idp', idp.spec);
    await mustCreate(api, 'trustedissuers', app!, 'hmac', hmacSpec);
    await mustCreate(api, 'trustedissuers', noSecrets!, 'hmac', hmacSpec);
    const older = await mustCreate(api, 'authpolicies', app!, 'zz-older', policySpec(`${app}.example.com`, ['idp']));
    // creationTimestamp has one-second resolution: make the second policy measurably younger
    await eventually(() => Date.now() >= Date.parse(older.metadata.creationTimestamp) + 1_100, 3_000, 50);
    await mustCreate(api, 'authpolicies', app!, 'aa-newer', policySpec(`${app}.example.com`, ['idp']));
    await mustCreate(api, 'authpolicies', app!, 'dangling', policySpec(`${app}-d.example.com`, ['nope']));
    await mustCreate(api, 'tokenrevocations', app!, 'active', { issuer: 'idp', jtis: ['j1'], expiresAt: '2099-01-01T00:00:00Z' });
    await mustCreate(api, 'tokenrevocations', app!, 'expired', { issuer: 'idp', jtis: ['j2'], expiresAt: '2020-01-01T00:00:00Z' });

    const conds = async (plural: Parameters<typeof get>[1], name: string) => {
      const obj = await get(api, plural, app!, name);
      return { obj, c: (type: string) => condition(obj, type) };
    };
    await eventually(async () => (await conds('tokenrevocations', 'expired')).c('Expired')?.status === 'True', 5_000, 50);
    await eventually(async () => (await conds('trustedissuers', 'hmac')).c('KeysReady')?.status === 'False', 5_000, 50);

    const ti = await conds('trustedissuers', 'idp');
    assert.deepEqual([ti.c('Accepted')?.status, ti.c('ResolvedRefs')?.status, ti.c('KeysReady')?.status, ti.c('KeysReady')?.reason], ['True', 'True', 'True', 'KeysLoaded']);
    assert.deepEqual(ti.obj.status.keyIds, ['kid-a']);
    assert.equal(ti.obj.status.observedGeneration, ti.obj.metadata.generation);
    assert.equal(ti.c('Accepted')?.observedGeneration, ti.obj.metadata.generation);
    const hmac = await conds('trustedissuers', 'hmac');
    assert.deepEqual([hmac.c('ResolvedRefs')?.status, hmac.c('ResolvedRefs')?.reason], ['False', 'SecretNotFound']);
    assert.equal(hmac.c('KeysReady')?.reason, 'KeysUnavailable');
    const forbidden = await settled(async () => {
      const c = condition(await get(api, 'trustedissuers', noSecrets!, 'hmac'), 'ResolvedRefs');
      return c?.reason === 'SecretUnreadable' ? c : undefined;
    });
    assert.equal(forbidden.status, 'False');
    assert.match(forbidden.message, /forbidden: grant claimcheck-secret-reader/);

    await eventually(async () => (await conds('authpolicies', 'aa-newer')).c('Conflicted')?.status === 'True', 5_000, 50);
    const newer = await conds('authpolicies', 'aa-newer');
    assert.equal(newer.c('Conflicted')?.reason, 'HostConflict');
    assert.match(newer.c('Conflicted')!.message, new RegExp(`older AuthPolicy ${app}/zz-older`));
    assert.equal((await conds('authpolicies', 'zz-older')).c('Conflicted')?.status, 'False', 'the older policy keeps the host although its name sorts later');
    const dangling = await conds('authpolicies', 'dangling');
    assert.deepEqual([dangling.c('Accepted')?.status, dangling.c('Accepted')?.reason], ['False', 'UnresolvedRefs']);
    assert.deepEqual([dangling.c('ResolvedRefs')?.status, dangling.c('ResolvedRefs')?.reason], ['False', 'IssuerNotFound']);
    assert.deepEqual([(await conds('tokenrevocations', 'active')).c('Expired')?.reason], ['Active']);

    const events = await settled(async () => {
      const r = await api.request('GET', `/api/v1/namespaces/${app}/events?fieldSelector=involvedObject.name=dangling`);
      return r.body.items?.length > 0 ? r.body.items : undefined;
    }, 5_000, 100);
    assert.equal(events[0].type, 'Warning');
    assert.equal(events[0].reason, 'UnresolvedRefs');

    const table = async (resource: string) => (await api.kubectl(['get', resource, '-n', app!])).stdout;
    assert.match(await table('ccap'), /^dangling\s+\["[^"]+"\]\s+False\s/m);
    assert.match(await table('ccap'), /^zz-older\s+\["[^"]+"\]\s+True\s/m);
    assert.match(await table('ccti'), /^idp\s+https:\/\/idp\.k8s-test\.invalid\s+True\s+True\s/m);
    assert.match(await table('ccti'), /^hmac\s+https:\/\/hmac\.example\s+False\s+True\s/m);
    assert.match(await table('cctr'), /^expired\s+idp\s+True\s+True\s/m);
    assert.match(await table('cctr'), /^active\s+idp\s+False\s+True\s/m);
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
});
