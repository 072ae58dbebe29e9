/**
 * The watch never silently stops: API server outages, expired watches (410 Gone after an
 * etcd compaction), half-open connections, and readiness before the first list. The API
 * server runs without its watch cache, so a watch resuming from a compacted
 * resourceVersion gets 410 from etcd itself; a second API server on the same etcd takes
 * writes while the first is down (an HA control plane).
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, startClaimcheck, type ClaimcheckProcess } from '../helpers/claimcheck-process.js';
import { createEnvoyClient, type EnvoyClient } from '../helpers/envoy-client.js';
import { freePort, k8sSkipReason, REPO, startKubeApiserver, type ApiserverInstance, type KubeApiserver } from './harness.js';
import {
  bearer, claimcheckIdentity, createNamespace, installCrds, mergePatch, metric, mustCreate, policySpec, remove, startK8sClaimcheck, testIssuer,
} from './cluster-fixture.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';
import { skipFor } from '../helpers/skip.js';

const skip = skipFor('Kubernetes suite', k8sSkipReason());

describe('the Kubernetes watch never silently stops', { skip }, () => {
  let api: KubeApiserver;
  let peer: ApiserverInstance;
  let proxy: TcpProxy;
  const cleanups: (() => Promise<void> | void)[] = [];

  before(async () => {
    api = await startKubeApiserver({ extraArgs: ['--watch-cache=false'] });
    await installCrds(api);
    peer = await api.addApiserver();
    const u = new URL(api.server);
    proxy = await startTcpProxy({ host: u.hostname, port: Number(u.port) });
  });
  afterEach(async () => {
    proxy?.restore();
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  after(async () => {
    await proxy?.close();
    await api?.stop();
  });

  async function serving(opts: { viaProxy?: boolean; args?: string[] } = {}) {
    const ns = await createNamespace(api, 'cc');
    const app = await createNamespace(api, 'app');
    const kubeconfig = await claimcheckIdentity(api, ns, opts.viaProxy ? proxy.url : undefined);
    const idp = testIssuer();
    await mustCreate(api, 'trustedissuers', app, 'idp', idp.spec);
    const cc = await startK8sClaimcheck({ kubeconfig, namespace: ns, args: ['--watch-namespaces', app, ...(opts.args ?? [])] });
    const client = createEnvoyClient(cc.grpcAddress);
    cleanups.push(async () => { client.close(); await cc.stop(); });
    return { ns, app, idp, cc, client, kubeconfig };
  }

  const allowed = async (client: EnvoyClient, host: string, token?: string) =>
    (await client.check({ host, path: '/api/x', ...(token ? { headers: bearer(token) } : {}) })).code === 0;

  test('claimcheck keeps serving the last snapshot while its API server is down and picks up the changes made meanwhile', async (t) => {
    const { app, idp, cc, client } = await serving();
    const token = await idp.token();
    const revoked = await idp.token({ jti: 'during-outage' });
    await mustCreate(api, 'authpolicies', app, 'edited', policySpec(`edited.${app}`, ['idp']));
    await mustCreate(api, 'authpolicies', app, 'deleted', policySpec(`deleted.${app}`, ['idp']));
    await eventually(async () => (await allowed(client, `edited.${app}`, token)) && (await allowed(client, `deleted.${app}`, token)), 3_000, 20);

    await api.kill(true);
    // the other API server of the control plane takes the changes
    await mergePatch(peer, 'authpolicies', app, 'edited', { spec: { rules: [{ name: 'write', match: { paths: ['/api/**'] }, require: { scopes: { allOf: ['write'] } } }] } });
    await remove(peer, 'authpolicies', app, 'deleted');
    await mustCreate(peer, 'authpolicies', app, 'created', policySpec(`created.${app}`, ['idp']));
    await mustCreate(peer, 'tokenrevocations', app, 'incident', { issuer: 'idp', jtis: ['during-outage'] });
    await cc.waitForLog((l) => l.msg === 'kubernetes list/watch failed; retrying', 10_000);

    // meanwhile the last snapshot answers, and the process stays ready
    const until = Date.now() + 1_500;
    while (Date.now() < until) {
      assert.ok(await allowed(client, `edited.${app}`, token), 'old rule of the edited policy');
      assert.ok(await allowed(client, `deleted.${app}`, revoked), 'deleted policy, token revoked meanwhile');
      assert.ok(!(await allowed(client, `created.${app}`, token)), 'created policy not known yet');
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal((await cc.http('/readyz')).status, 200);

    const t0 = Date.now();
    await api.start();
    await eventually(async () =>
      !(await allowed(client, `edited.${app}`, token)) &&
      !(await allowed(client, `deleted.${app}`, token)) &&
      (await allowed(client, `created.${app}`, token)) &&
      (await client.check({ host: `created.${app}`, path: '/api/x', headers: bearer(revoked) })).httpStatus === 401,
    30_000, 100);
    t.diagnostic(`caught up ${Date.now() - t0} ms after the API server was started again`);
  });

  test('a watch that expires (410 Gone after an etcd compaction) relists without losing or duplicating state', async () => {
    const { app, idp, cc, client } = await serving({ viaProxy: true });
    const token = await idp.token();
    for (const name of ['one', 'two', 'three']) await mustCreate(api, 'authpolicies', app, name, policySpec(`${name}.${app}`, ['idp']));
    await eventually(async () => (await allowed(client, `one.${app}`, token)) && (await allowed(client, `three.${app}`, token)), 3_000, 20);

    proxy.cut();
    await cc.waitForLog((l) => l.msg === 'kubernetes list/watch failed; retrying', 10_000);
    await remove(api, 'authpolicies', app, 'one');
    await mergePatch(api, 'authpolicies', app, 'two', { spec: { rules: [{ name: 'write', match: { paths: ['/api/**'] }, require: { scopes: { allOf: ['write'] } } }] } });
    await mustCreate(api, 'authpolicies', app, 'four', policySpec(`four.${app}`, ['idp']));
    const range = await fetch(`${api.etcdUrl}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: Buffer.from('/').toString('base64') , limit: 1 }) });
    const revision = ((await range.json()) as { header: { revision: string } }).header.revision;
    const compacted = await fetch(`${api.etcdUrl}/v3/kv/compaction`, { method: 'POST', body: JSON.stringify({ revision, physical: true }) });
    assert.equal(compacted.status, 200, await compacted.text());
    proxy.restore();

    await cc.waitForLog((l) => l.msg === 'watch expired (410 Gone); relisting' && l.resource === 'authpolicies', 20_000);
    await eventually(async () =>
      !(await allowed(client, `one.${app}`, token)) &&
      !(await allowed(client, `two.${app}`, token)) &&
      (await allowed(client, `three.${app}`, token)) &&
      (await allowed(client, `four.${app}`, token)),
    10_000, 50);
    const metrics = (await cc.http('/metrics')).body;
    assert.ok(metric(metrics, 'claimcheck_kubernetes_relists_total', { resource: 'authpolicies', reason: 'expired' }) >= 1, 'relisted because of the 410');
    assert.equal(metric(metrics, 'claimcheck_kubernetes_objects', { kind: 'AuthPolicy' }), 3, 'two, three, four: nothing lost, nothing twice');
    assert.equal(metric(metrics, 'claimcheck_kubernetes_objects', { kind: 'TrustedIssuer' }), 1);
    assert.ok(!cc.logs.some((l) => l.level === 'error' && /duplicate/.test(l.msg)), 'no duplicate resources after the relist');
  });

  test('a watch connection that goes silent is restarted by the watchdog', async () => {
    const { app, idp, cc, client } = await serving({ viaProxy: true, args: ['--kube-watch-idle-timeout', '2s'] });
    const token = await idp.token();
    await mustCreate(api, 'authpolicies', app, 'p', policySpec(`p.${app}`, ['idp']));
    await eventually(() => allowed(client, `p.${app}`, token), 3_000, 20);

    proxy.freezeOpenConnections();
    await mergePatch(api, 'authpolicies', app, 'p', { spec: { rules: [{ name: 'open', match: { paths: ['/**'] }, action: 'allowAnonymous' }] } });
    await eventually(() => allowed(client, `p.${app}`), 8_000, 50);
    assert.ok(metric((await cc.http('/metrics')).body, 'claimcheck_kubernetes_watch_restarts_total', { resource: 'authpolicies', reason: 'idle' }) >= 1);
  });

  test('claimcheck is not ready before the first complete list and becomes ready after it', async () => {
    const ns = await createNamespace(api, 'cc');
    const kubeconfig = await claimcheckIdentity(api, ns, proxy.url);
    const httpPort = await freePort();
    proxy.cut();
    let cc: ClaimcheckProcess | undefined;
    const starting = startClaimcheck({
      configDir: REPO,
      args: ['--config-source', 'kubernetes', '--kubeconfig', kubeconfig, '--namespace', ns, '--workers', '1', '--http-addr', `127.0.0.1:${httpPort}`],
    }).then((p) => { cc = p; return p; });
    cleanups.push(async () => { await (cc ?? (await starting.catch(() => undefined)))?.stop(); });

    const readyz = async () => (await fetch(`http://127.0.0.1:${httpPort}/readyz`)).status;
    assert.equal(await eventually(readyz, 10_000, 50), 503);
    const until = Date.now() + 1_000;
    while (Date.now() < until) {
      assert.equal(await readyz(), 503);
      await new Promise((r) => setTimeout(r, 100));
    }
    proxy.restore();
    await starting;
    await eventually(async () => (await readyz()) === 200, 15_000, 50);
  });
});
