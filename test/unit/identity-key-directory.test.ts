/** --identity-key-dir as files change: a broken file keeps its last good key, removal unpublishes, one kid per file. */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IdentityKeyDirectory } from '../../src/identity/key-directory.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { ecPrivateKeyPem } from '../helpers/tokens.js';

const ecJwk = (kid: string) => JSON.stringify({ ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }), kid });

describe('identity key directory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'claimcheck-identity-keys-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const kids = (d: IdentityKeyDirectory) => d.current.keys.map((k) => k.kid);
  const signer = (d: IdentityKeyDirectory) => d.current.signer?.kid;

  test('a file that turns bad keeps its last good key; a removed file is unpublished; dot files are ignored', async () => {
    writeFileSync(join(dir, 'k1.pem'), ecPrivateKeyPem());
    writeFileSync(join(dir, '.hidden.pem'), ecPrivateKeyPem());
    const d = new IdentityKeyDirectory({ dir, logger: silentLogger() });
    await d.poll();
    assert.deepEqual(kids(d), ['k1']);
    const good = d.current.keys[0];
    assert.equal(d.current.signer, good, 'one key: it signs');
    const version = d.current.version;
    writeFileSync(join(dir, 'k1.pem'), 'garbage that is longer than before');
    await d.poll();
    assert.equal(d.current.keys[0], good);
    assert.equal(d.current.version, version, 'nothing changed for the verifiers');
    unlinkSync(join(dir, 'k1.pem'));
    await d.poll();
    assert.deepEqual(kids(d), []);
    assert.equal(d.current.signer, undefined);
  });

  test('the same kid in two files: the first by name wins; a missing --identity-signing-key kid signs nothing', async () => {
    writeFileSync(join(dir, 'a.json'), ecJwk('same'));
    writeFileSync(join(dir, 'b.json'), ecJwk('same'));
    const d = new IdentityKeyDirectory({ dir, logger: silentLogger(), signingKid: 'other' });
    await d.poll();
    assert.deepEqual(kids(d), ['same']);
    assert.equal(d.current.signer, undefined);
    writeFileSync(join(dir, 'other.pem'), ecPrivateKeyPem());
    await d.poll();
    assert.equal(signer(d), 'other');
    unlinkSync(join(dir, 'a.json'));
    unlinkSync(join(dir, 'b.json'));
    unlinkSync(join(dir, 'other.pem'));
  });

  test('started with several keys and no flag: no signer; a key added beside a signer does not take over', async () => {
    writeFileSync(join(dir, 'x.pem'), ecPrivateKeyPem());
    writeFileSync(join(dir, 'y.pem'), ecPrivateKeyPem());
    const several = new IdentityKeyDirectory({ dir, logger: silentLogger() });
    await several.poll();
    assert.equal(several.current.signer, undefined);
    unlinkSync(join(dir, 'y.pem'));
    const one = new IdentityKeyDirectory({ dir, logger: silentLogger() });
    await one.poll();
    assert.equal(signer(one), 'x');
    writeFileSync(join(dir, 'z.pem'), ecPrivateKeyPem());
    await one.poll();
    assert.deepEqual(kids(one), ['x', 'z']);
    assert.equal(signer(one), 'x');
  });
});
