import { skipFor } from '../helpers/skip.js';
/**
 * Status in Kubernetes mode: leader election over a Lease, conditions, Events and printer
 * columns, against a real API server through real RBAC. One API server for the file.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { eventually } from '../helpers/claimcheck-process.js';
import { k8sSkipReason, startKubeApiserver, type KubeApiserver } from './harness.js';
import {
  AUDIENCE, allowSecrets, claimcheckIdentity, condition, createNamespace, get, metric, mustCreate, policySpec,
  settled, startK8sClaimcheck, startScenario, testIssuer,
  useApiserver,
} from './cluster-fixture.js';

const skip = skipFor('Kubernetes suite', k8sSkipReason());

describe('status of claimcheck resources', { skip }, () => {
  let api: KubeApiserver;
  const { cleanups } = useApiserver(startKubeApiserver, (a) => { api = a; });

  const setup = (apps: number) => startScenario(api, cleanups, apps);

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
    // the last log lines say where a slow or failed hand-over spent its time
    const lastLogs = () => JSON.stringify(second.logs.slice(-10).map((l) => [l.time, l.msg, l.err ?? l.error]));
    assert.ok(second.logs.some((l) => l.msg === 'leader lease released'), `no release after ${Date.now() - t0} ms: ${lastLogs()}`);
    assert.ok(Date.now() - t0 < 3_000, `took over ${Date.now() - t0} ms after the stop`);
  });


  test('status conditions, Events and printer columns read back as expected', async () => {
    const { ns, apps: [app, noSecrets], procs: [cc] } = await setup(2);
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
    assert.match(ti.obj.status.lastRefreshTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.ok(Math.abs(Date.now() - Date.parse(ti.obj.status.lastRefreshTime)) < 60_000, ti.obj.status.lastRefreshTime);
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

    // one Warning Event per failing condition: Accepted (UnresolvedRefs) and ResolvedRefs (IssuerNotFound)
    const events: any[] = await settled(async () => {
      const r = await api.request('GET', `/api/v1/namespaces/${app}/events?fieldSelector=involvedObject.name=dangling`);
      return r.body.items?.length >= 2 ? r.body.items : undefined;
    }, 5_000, 100);
    assert.deepEqual(events.map((e) => `${e.type}/${e.reason}`).sort(), ['Warning/IssuerNotFound', 'Warning/UnresolvedRefs']);

    // the HMAC issuer's Secret appears: KeysReady turns True, and one Normal Event says so
    const secret = await api.request('POST', `/api/v1/namespaces/${app}/secrets`, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'missing' }, data: { key: randomBytes(32).toString('base64') } });
    assert.equal(secret.status, 201, JSON.stringify(secret.body));
    await eventually(async () => (await conds('trustedissuers', 'hmac')).c('KeysReady')?.status === 'True', 10_000, 100);
    const recovered: any[] = await settled(async () => {
      const r = await api.request('GET', `/api/v1/namespaces/${app}/events?fieldSelector=involvedObject.name=hmac`);
      const normal = (r.body.items ?? []).filter((e: any) => e.type === 'Normal');
      return normal.length > 0 ? normal : undefined;
    }, 5_000, 100);
    assert.deepEqual(recovered.map((e) => `${e.reason}: ${e.involvedObject.kind}`), ['KeysLoaded: TrustedIssuer']);
    assert.ok((await conds('trustedissuers', 'hmac')).obj.status.lastRefreshTime);

    // the first load plus 8 creates; the status writes they cause change no spec and must not recompile anything
    const generation = metric((await cc!.http('/metrics')).body, 'claimcheck_config_generation');
    assert.ok(generation >= 1 && generation <= 9, `snapshot generation ${generation}`);

    const table = async (resource: string) => (await api.kubectl(['get', resource, '-n', app!])).stdout;
    assert.match(await table('ccap'), /^dangling\s+\["[^"]+"\]\s+False\s/m);
    assert.match(await table('ccap'), /^zz-older\s+\["[^"]+"\]\s+True\s/m);
    assert.match(await table('ccti'), /^idp\s+https:\/\/idp\.k8s-test\.invalid\s+True\s+True\s/m);
    // ready since its Secret appeared above
    assert.match(await table('ccti'), /^hmac\s+https:\/\/hmac\.example\s+True\s+True\s/m);
    assert.match(await table('cctr'), /^expired\s+idp\s+True\s+True\s/m);
    assert.match(await table('cctr'), /^active\s+idp\s+False\s+True\s/m);
  });

});
