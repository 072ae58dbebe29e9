/**
 * deploy/traefik and deploy/ingress-nginx, which no test can run (docs/http-authz.md says why
 * for Traefik): the Kubernetes objects applied with `kubectl apply --dry-run=server
 * --validate=strict` against a real kube-apiserver with Traefik's own CRDs, and the file
 * provider configuration checked field by field against Traefik's generated reference
 * configuration (docs/content/reference/*-configuration/file.yaml of the same release).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { REPO } from '../helpers/claimcheck-process.js';
import { skipFor } from '../helpers/skip.js';
import { k8sSkipReason, startKubeApiserver, type KubeApiserver } from '../k8s/harness.js';
import { applyThirdPartyCrds, ensureNamespace } from './lib/cluster.js';
import { THIRD_PARTY_CRDS, thirdPartyDir, thirdPartySkipReason } from './lib/tools.js';

const deploy = (p: string) => join(REPO, 'deploy', p);
const reference = (which: 'static' | 'dynamic') => YAML.parse(readFileSync(join(thirdPartyDir(), `traefik/docs/content/reference/${which}-configuration/file.yaml`), 'utf8'), { uniqueKeys: false }) as unknown;

type Tree = { [k: string]: unknown };
const isMap = (v: unknown): v is Tree => typeof v === 'object' && v !== null && !Array.isArray(v);
// The reference names user-chosen keys Router0, Middleware1, name0, …
const namesOfUsers = (m: Tree) => Object.keys(m).length > 0 && Object.keys(m).every((k) => /\d$/.test(k));

/** Every key path of `doc` that the reference has no place for. */
function unknownFields(doc: unknown, ref: unknown, path = ''): string[] {
  if (Array.isArray(doc)) return Array.isArray(ref) && ref.length > 0 ? doc.flatMap((d, i) => unknownFields(d, ref[0], `${path}[${i}]`)) : [];
  if (!isMap(doc)) return [];
  if (!isMap(ref)) return [`${path} is not a map in the reference`];
  if (namesOfUsers(ref)) {
    const merged = Object.assign({}, ...Object.values(ref).filter(isMap)) as Tree;
    return Object.entries(doc).flatMap(([k, v]) => (Object.keys(merged).length ? unknownFields(v, merged, `${path}.${k}`) : []));
  }
  return Object.entries(doc).flatMap(([k, v]) => (k in ref ? unknownFields(v, ref[k], `${path}.${k}`) : [`${path}.${k}`]));
}

const noThirdParty = skipFor('Traefik reference configuration', thirdPartySkipReason());

describe('deploy/traefik file provider configuration against Traefik v3.7\'s reference configuration', { skip: noThirdParty }, () => {
  test('traefik.yml (static) and dynamic.yml use only fields Traefik has', () => {
    const staticDoc = YAML.parse(readFileSync(deploy('traefik/traefik.yml'), 'utf8'));
    const dynamicDoc = YAML.parse(readFileSync(deploy('traefik/dynamic.yml'), 'utf8'));
    assert.deepEqual(unknownFields(staticDoc, reference('static')), []);
    assert.deepEqual(unknownFields(dynamicDoc, reference('dynamic')), []);
    assert.equal(dynamicDoc.http.middlewares.claimcheck.forwardAuth.trustForwardHeader, false);
    assert.deepEqual(dynamicDoc.http.middlewares.claimcheck.forwardAuth.authResponseHeaders, ['X-User-Id', 'X-Scopes', 'X-Tenant']);
  });

  test('the check can fail: a misspelled field is found at its path', () => {
    const dynamicDoc = YAML.parse(readFileSync(deploy('traefik/dynamic.yml'), 'utf8'));
    dynamicDoc.http.middlewares.claimcheck.forwardAuth.trustForwardHeaders = false;
    dynamicDoc.http.routers.app.midlewares = [];
    assert.deepEqual(unknownFields(dynamicDoc, reference('dynamic')).sort(), ['.http.middlewares.claimcheck.forwardAuth.trustForwardHeaders', '.http.routers.app.midlewares']);
    const staticDoc = YAML.parse(readFileSync(deploy('traefik/traefik.yml'), 'utf8'));
    staticDoc.entryPoints.web.http.aliasHeaderStrategy = 'delete';
    assert.deepEqual(unknownFields(staticDoc, reference('static')), ['.entryPoints.web.http.aliasHeaderStrategy']);
  });
});

const clusterSkip = skipFor('deploy/traefik and deploy/ingress-nginx against kube-apiserver', k8sSkipReason() ?? thirdPartySkipReason());

describe('deploy/traefik and deploy/ingress-nginx Kubernetes objects against a real kube-apiserver with Traefik\'s CRDs', { skip: clusterSkip }, () => {
  let api: KubeApiserver;
  before(async () => {
    api = await startKubeApiserver();
    await applyThirdPartyCrds(api, [THIRD_PARTY_CRDS.traefik]);
    await ensureNamespace(api, 'demo');
  });
  after(async () => {
    await api?.stop();
  });

  for (const file of ['traefik/kubernetes-middleware.yaml', 'ingress-nginx/ingress.yaml']) {
    test(`kubectl apply --dry-run=server --validate=strict -f deploy/${file} accepts every object`, async () => {
      const r = await api.kubectl(['apply', '--dry-run=server', '--validate=strict', '-f', deploy(file)]);
      assert.equal(r.code, 0, `${r.stderr}\n${r.stdout}`);
      assert.equal(r.stderr.trim(), '', 'warnings from the API server');
      assert.equal(r.stdout.trim().split('\n').length, YAML.parseAllDocuments(readFileSync(deploy(file), 'utf8')).length, r.stdout);
    });
  }

  test('a misspelled forwardAuth field is rejected by Traefik\'s CRD schema (the dry run is strict)', async () => {
    const bad = readFileSync(deploy('traefik/kubernetes-middleware.yaml'), 'utf8').replace('trustForwardHeader: false', 'trustForwardHeaders: false');
    const r = await api.kubectl(['apply', '--dry-run=server', '--validate=strict', '-f', '-'], { input: bad });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /unknown field "spec\.forwardAuth\.trustForwardHeaders"/);
  });
});
