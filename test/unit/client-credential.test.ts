/** keys/client-credential.ts: client_secret_basic and private_key_jwt, read again only once 2 s old. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { ClientCredential, ASSERTION_LIFETIME_SEC } from '../../src/keys/client-credential.js';
import type { CompiledIntrospection, CompiledIssuer } from '../../src/compile/snapshot.js';
import { FakeScheduler } from '../helpers/fake-scheduler.js';
import { keyFile } from './keys-support.js';

const ENDPOINT = 'https://idp.example.com/introspect';
function issuerWith(cfg: Partial<CompiledIntrospection>): CompiledIssuer {
  const introspection = { endpoint: ENDPOINT, clientId: 'claim check', clientAuth: 'client_secret_basic', assertionAudience: ENDPOINT, cacheTtlSec: 60, allowInsecureHttp: false, fingerprint: 'f', ...cfg };
  return { key: 'default/idp', issuer: 'https://idp.example.com', introspection } as unknown as CompiledIssuer;
}
const decode = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString()) as Record<string, unknown>;

describe('ClientCredential', () => {
  test('client_secret_basic: id and secret form-encoded (RFC 6749 §2.3.1), one trailing newline dropped', () => {
    const file = keyFile('secret', 'a:b c\n');
    const auth = new ClientCredential(issuerWith({ secretPath: file }), new FakeScheduler()).authenticate()!;
    assert.equal(auth.form, '');
    assert.equal(Buffer.from(auth.headers.authorization!.replace(/^Basic /, ''), 'base64').toString(), 'claim+check:a%3Ab+c');
  });

  test('private_key_jwt: a new ES256 assertion per request, verifiable with the public key, no Authorization header', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const file = keyFile('client-1.pem', privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const clock = new FakeScheduler();
    const cred = new ClientCredential(issuerWith({ clientAuth: 'private_key_jwt', secretPath: file }), clock);
    const [a, b] = [cred.authenticate()!, cred.authenticate()!];
    assert.deepEqual(a.headers, {});
    const params = new URLSearchParams(a.form.slice(1));
    assert.equal(params.get('client_assertion_type'), 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    const [h, p, sig] = params.get('client_assertion')!.split('.');
    assert.deepEqual(decode(h!), { alg: 'ES256', kid: 'client-1', typ: 'JWT' });
    const claims = decode(p!);
    const now = Math.floor(clock.now() / 1000);
    assert.deepEqual({ ...claims, jti: undefined }, { iss: 'claim check', sub: 'claim check', aud: ENDPOINT, jti: undefined, iat: now, exp: now + ASSERTION_LIFETIME_SEC });
    assert.ok(verify('sha256', Buffer.from(`${h}.${p}`), { key: createPublicKey(privateKey), dsaEncoding: 'ieee-p1363' }, Buffer.from(sig!, 'base64url')));
    const jtiB = decode(new URLSearchParams(b.form.slice(1)).get('client_assertion')!.split('.')[1]!).jti;
    assert.notEqual(claims.jti, jtiB, 'every assertion has its own jti');
  });

  test('the credential is read again once it is 2 s old, not before; an unreadable or unusable one is undefined', () => {
    const file = keyFile('rotating', 'one');
    const clock = new FakeScheduler();
    const cred = new ClientCredential(issuerWith({ secretPath: file }), clock);
    const user = () => Buffer.from(cred.authenticate()!.headers.authorization!.slice(6), 'base64').toString();
    assert.equal(user(), 'claim+check:one');
    writeFileSync(file, 'two');
    clock.advance(1999);
    assert.equal(user(), 'claim+check:one');
    clock.advance(1);
    assert.equal(user(), 'claim+check:two');
    writeFileSync(file, '');
    clock.advance(2000);
    assert.equal(cred.authenticate(), undefined);
    const notAKey = new ClientCredential(issuerWith({ clientAuth: 'private_key_jwt', secretPath: keyFile('k.pem', 'not a key') }), clock);
    assert.equal(notAKey.authenticate(), undefined);
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' });
    assert.equal(new ClientCredential(issuerWith({ clientAuth: 'private_key_jwt', secretPath: keyFile('small.pem', small) }), clock).authenticate(), undefined);
  });
});
