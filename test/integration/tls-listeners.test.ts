/**
 * --grpc-tls-*, --http-tls-* and --authz-http-tls-* on a real claimcheck process, with files laid
 * out as a Kubernetes Secret volume (`..data` a symlink swapped atomically): mTLS with and
 * without a client certificate, one from another CA, rotation under a long-lived connection,
 * a bad rotation, TLS 1.1, and the HTTP listeners over HTTPS.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { X509Certificate } from 'node:crypto';
import { startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { createEnvoyClient, type EnvoyClient } from '../helpers/envoy-client.js';
import { createTestCa, issueClientCertificate, issueServerCertificate, type ClientCertificate } from '../helpers/test-ca.js';
import { BIN, eventually, httpsGet, testGrpcServer } from '../helpers/claimcheck-process.js';
import { spawn } from 'node:child_process';

const HOST = 'payments.example.com';

function runBin(args: string[]): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'ignore'] });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.on('close', (code) => resolve({ code, stdout }));
  });
}

describe(`TLS on the listeners (--grpc-server ${testGrpcServer()})`, () => {
  const ca = createTestCa('claimcheck listener CA');
  const other = createTestCa('another CA');
  const envoyCert = issueClientCertificate(ca, 'envoy');
  const stranger = issueClientCertificate(other, 'stranger');
  let dir: string;
  let version = 0;
  let server: FixtureServer;
  const clients: EnvoyClient[] = [];

  /** What the kubelet does: the new files in a fresh directory, then `..data` swapped to it in one rename. */
  const publish = (pair: ClientCertificate, caPem = ca.caCert) => {
    const v = `..v${++version}`;
    mkdirSync(join(dir, v));
    writeFileSync(join(dir, v, 'tls.crt'), pair.cert);
    writeFileSync(join(dir, v, 'tls.key'), pair.key);
    writeFileSync(join(dir, v, 'ca.crt'), caPem);
    symlinkSync(v, join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
  };
  const grpcPort = () => Number(server.cc.grpcAddress.split(':').pop());
  const client = (creds: grpc.ChannelCredentials) => {
    const c = createEnvoyClient(`127.0.0.1:${grpcPort()}`, creds);
    clients.push(c);
    return c;
  };
  const ssl = (cert?: ClientCertificate, trust = ca.caCert) => grpc.credentials.createSsl(Buffer.from(trust), cert ? Buffer.from(cert.key) : null, cert ? Buffer.from(cert.cert) : null);
  /** the certificate a new connection is served, by fingerprint */
  const servedFingerprint = (port: number, alpn: string) =>
    new Promise<string>((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port, ca: ca.caCert, cert: envoyCert.cert, key: envoyCert.key, ALPNProtocols: [alpn] }, () => {
        resolve(s.getPeerCertificate().fingerprint256);
        s.end();
      });
      s.once('error', reject);
    });
  const fingerprintOf = (pem: string) => new X509Certificate(pem).fingerprint256;
  const get = (port: number, path: string, opts: https.RequestOptions = {}) => httpsGet(port, path, ca.caCert, opts);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'claimcheck-tls-'));
    publish({ cert: ca.serverCert, key: ca.serverKey });
    for (const f of ['tls.crt', 'tls.key', 'ca.crt']) symlinkSync(join('..data', f), join(dir, f));
    const files = (listener: string, clientCa: boolean) => [`--${listener}-tls-cert`, join(dir, 'tls.crt'), `--${listener}-tls-key`, join(dir, 'tls.key'), ...(clientCa ? [`--${listener}-tls-client-ca`, join(dir, 'ca.crt')] : [])];
    server = await startFixtureServer(undefined, ['--workers', '1', '--authz-http-addr', '127.0.0.1:0', ...files('grpc', true), ...files('http', false), ...files('authz-http', true)]);
  });
  after(async () => {
    for (const c of clients) c.close();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('mTLS: with a certificate of the client CA a Check is answered; without one, or with another CA\'s, the handshake fails', async () => {
    const r = await client(ssl(envoyCert)).check({ host: HOST, path: '/v1/accounts' });
    assert.equal(r.httpStatus, 401, 'a real answer: no token, 401');
    await assert.rejects(client(ssl()).check({ host: HOST, path: '/v1/accounts' }), (err: grpc.ServiceError) => err.code === grpc.status.UNAVAILABLE);
    await assert.rejects(client(ssl(stranger)).check({ host: HOST, path: '/v1/accounts' }), (err: grpc.ServiceError) => err.code === grpc.status.UNAVAILABLE);
  });

  test('the server is authenticated: a client trusting another CA refuses it; plaintext gets nothing', async () => {
    await assert.rejects(client(ssl(envoyCert, other.caCert)).check({ host: HOST, path: '/v1/accounts' }), (err: grpc.ServiceError) => err.code === grpc.status.UNAVAILABLE);
    await assert.rejects(client(grpc.credentials.createInsecure()).check({ host: HOST, path: '/v1/accounts' }), (err: grpc.ServiceError) => err.code === grpc.status.UNAVAILABLE);
  });

  test('TLS 1.1 is refused; ALPN h2 is what the gRPC listener speaks', async () => {
    await assert.rejects(
      new Promise((resolve, reject) => {
        const s = tls.connect({ host: '127.0.0.1', port: grpcPort(), ca: ca.caCert, cert: envoyCert.cert, key: envoyCert.key, minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ALPNProtocols: ['h2'] }, () => resolve(s.end()));
        s.once('error', reject);
      }),
    );
    const s = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const c = tls.connect({ host: '127.0.0.1', port: grpcPort(), ca: ca.caCert, cert: envoyCert.cert, key: envoyCert.key, ALPNProtocols: ['h2', 'http/1.1'] }, () => resolve(c));
      c.once('error', reject);
    });
    assert.equal(s.alpnProtocol, 'h2');
    assert.match(String(s.getProtocol()), /^TLSv1\.[23]$/);
    s.end();
  });

  test('the HTTP listener serves HTTPS; the authorization listener requires a client certificate', async () => {
    assert.equal((await get(server.cc.httpPort, '/healthz')).status, 200);
    await assert.rejects(fetch(`http://127.0.0.1:${server.cc.httpPort}/healthz`));
    const authz = await get(server.cc.authzHttpPort, '/forward-auth', { cert: envoyCert.cert, key: envoyCert.key, headers: { 'x-forwarded-host': HOST, 'x-forwarded-uri': '/v1/accounts', 'x-forwarded-method': 'GET', 'x-forwarded-proto': 'https' } });
    assert.equal(authz.status, 401);
    await assert.rejects(get(server.cc.authzHttpPort, '/forward-auth'));
  });

  test('claimcheck healthcheck --tls-ca/--tls-cert/--tls-key (the helm test hook) is SERVING; without the client certificate it fails', async () => {
    writeFileSync(join(dir, 'client.crt'), envoyCert.cert);
    writeFileSync(join(dir, 'client.key'), envoyCert.key);
    const addr = `127.0.0.1:${grpcPort()}`;
    const tlsArgs = ['--tls-ca', join(dir, 'ca.crt')];
    const ok = await runBin(['healthcheck', '--addr', addr, ...tlsArgs, '--tls-cert', join(dir, 'client.crt'), '--tls-key', join(dir, 'client.key')]);
    assert.deepEqual([ok.code, ok.stdout], [0, `${addr}: SERVING\n`]);
    const refused = await runBin(['healthcheck', '--addr', addr, '--timeout', '2s', ...tlsArgs]);
    assert.equal(refused.code, 1);
    assert.match(refused.stdout, /UNAVAILABLE|DEADLINE_EXCEEDED/);
  });

  test('a rotated Secret reaches new connections within 5 s; a connection opened before keeps working', async () => {
    const longLived = client(ssl(envoyCert));
    assert.equal((await longLived.check({ host: HOST, path: '/v1/accounts' })).httpStatus, 401);
    const next = issueServerCertificate(ca);
    const t0 = Date.now();
    publish(next);
    await eventually(async () => (await servedFingerprint(grpcPort(), 'h2')) === fingerprintOf(next.cert), 5_000, 100);
    const took = Date.now() - t0;
    assert.ok(took < 5_000, `took ${took} ms`);
    await eventually(async () => (await servedFingerprint(server.cc.httpPort, 'http/1.1')) === fingerprintOf(next.cert), 5_000, 100);
    assert.equal((await longLived.check({ host: HOST, path: '/v1/accounts' })).httpStatus, 401, 'the open connection still answers');
    assert.equal((await client(ssl(envoyCert)).check({ host: HOST, path: '/v1/accounts' })).httpStatus, 401, 'a new connection too');
    await server.cc.waitForLog((l) => l.msg === 'tls certificate reloaded' && l.listener === 'grpc', 2_000);
  });

  test('a bad rotation (a key that does not match) keeps the last good pair, logged and counted', async () => {
    const before = await servedFingerprint(grpcPort(), 'h2');
    const a = issueServerCertificate(ca);
    const b = issueServerCertificate(ca);
    publish({ cert: a.cert, key: b.key });
    const line = await server.cc.waitForLog((l) => l.msg === 'tls files not usable; the last good certificate keeps serving' && l.listener === 'grpc', 5_000);
    assert.match(String(line.problem), /does not match the certificate/);
    assert.equal(await servedFingerprint(grpcPort(), 'h2'), before);
    assert.equal((await client(ssl(envoyCert)).check({ host: HOST, path: '/v1/accounts' })).httpStatus, 401);
    const metrics = await get(server.cc.httpPort, '/metrics');
    assert.match(metrics.body, /claimcheck_tls_reloads_total\{listener="grpc",result="error"\} 1\b/);
    assert.match(metrics.body, /claimcheck_tls_certificate_expiry_timestamp_seconds\{listener="grpc"\} \d{10}\b/);
    assert.ok(!server.cc.rawLog().includes('PRIVATE KEY'), 'no key material in the log');
  });
});
