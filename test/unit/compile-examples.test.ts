import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { compileSnapshot } from '../../src/compile/compile-snapshot.js';
import { loadConfigDir } from '../../src/model/load-config-dir.js';
import { validatePaths } from '../../src/commands/validate-paths.js';

const EXAMPLES = fileURLToPath(new URL('../../examples', import.meta.url));

describe('bundled examples', () => {
  test('compile with zero problems and zero warnings', async () => {
    const loaded = await loadConfigDir(EXAMPLES);
    assert.deepEqual(loaded.problems, []);
    const { snapshot, problems, warnings } = compileSnapshot(loaded.resources, { namespace: 'default', generation: 1 });
    assert.deepEqual(problems, []);
    assert.deepEqual(warnings, []);
    assert.equal(snapshot!.policyForHost('localhost')?.name, 'demo');
    assert.equal(snapshot!.policyForHost('api.demo.local')?.name, 'demo');
    assert.equal(snapshot!.policyForHost('demo.example.com')?.name, 'demo');
    assert.equal(snapshot!.revocations.isRevoked('default/demo', { jti: 'demo-revoked-jti' }, Date.now() / 1000), true);
  });

  test('validate reports the examples as clean', async () => {
    const report = await validatePaths([EXAMPLES], { namespace: 'default' });
    assert.deepEqual(report.problems, []);
    assert.equal(report.resourceCount, 3);
  });

  test('the demo private key matches the public key inlined in the demo issuer', async () => {
    const priv = JSON.parse(await readFile(`${EXAMPLES}/demo-keys/demo-signing-key.private.jwk.json`, 'utf8')) as Record<string, string>;
    const { resources } = await loadConfigDir(EXAMPLES);
    const issuer = resources.find((r) => r.kind === 'TrustedIssuer');
    assert.ok(issuer && issuer.kind === 'TrustedIssuer');
    const pub = issuer.spec.jwks!.inline!.keys[0]!;
    assert.equal(pub.kid, priv.kid);
    assert.equal(pub.x, priv.x);
    assert.equal(pub.y, priv.y);
    assert.equal('d' in pub, false);
  });
});

describe('validatePaths', () => {
  test('reports an unreadable path and still counts resources from the others', async () => {
    const report = await validatePaths([EXAMPLES, `${EXAMPLES}/does-not-exist.yaml`], { namespace: 'default' });
    assert.equal(report.resourceCount, 3);
    assert.equal(report.problems.length, 1);
    assert.match(report.problems[0]!.message, /ENOENT/);
  });
});
