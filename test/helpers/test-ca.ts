/** A throwaway CA, a 127.0.0.1/localhost server certificate and client certificates, made with the openssl CLI. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCa {
  /** PEM of the CA certificate: the trust root to hand to caBundle */
  caCert: string;
  /** PEM server certificate (SAN IP:127.0.0.1, DNS:localhost) signed by the CA */
  serverCert: string;
  serverKey: string;
  /** PEM key of the CA, kept to issue client certificates */
  caKey: string;
}

export interface ClientCertificate {
  /** PEM client certificate (extendedKeyUsage clientAuth) signed by the CA */
  cert: string;
  key: string;
}

function openssl(cwd: string, args: string[]): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Generates a fresh CA each call (about 100 ms with EC keys); pass `name` to tell CAs apart in errors. */
export function createTestCa(name = 'claimcheck test CA'): TestCa {
  const dir = mkdtempSync(join(tmpdir(), 'claimcheck-ca-'));
  try {
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
    openssl(dir, ['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', `/CN=${name}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    openssl(dir, ['req', ...ec.slice(0, 4), '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost']);
    writeFileSync(join(dir, 'ext.cnf'), [
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=serverAuth',
      '',
    ].join('\n'));
    openssl(dir, ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial',
      '-out', 'server.crt', '-days', '2', '-extfile', 'ext.cnf']);
    return {
      caCert: readFileSync(join(dir, 'ca.crt'), 'utf8'),
      serverCert: readFileSync(join(dir, 'server.crt'), 'utf8'),
      serverKey: readFileSync(join(dir, 'server.key'), 'utf8'),
      caKey: readFileSync(join(dir, 'ca.key'), 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A fresh EC key and a certificate for it with subject CN=`cn`, signed by `ca`: what an mTLS client presents. */
export function issueClientCertificate(ca: TestCa, cn: string): ClientCertificate {
  return issue(ca, cn, ['extendedKeyUsage=clientAuth']);
}

/** Another 127.0.0.1/localhost server certificate of `ca`, with a fresh key: a rotation's next pair. */
export function issueServerCertificate(ca: TestCa, cn = 'localhost'): ClientCertificate {
  return issue(ca, cn, ['subjectAltName=IP:127.0.0.1,DNS:localhost', 'extendedKeyUsage=serverAuth']);
}

function issue(ca: TestCa, cn: string, extensions: string[]): ClientCertificate {
  const dir = mkdtempSync(join(tmpdir(), 'claimcheck-cert-'));
  try {
    writeFileSync(join(dir, 'ca.crt'), ca.caCert);
    writeFileSync(join(dir, 'ca.key'), ca.caKey, { mode: 0o600 });
    openssl(dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', `/CN=${cn}`]);
    writeFileSync(join(dir, 'ext.cnf'), ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', ...extensions, ''].join('\n'));
    openssl(dir, ['x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial',
      '-out', 'leaf.crt', '-days', '2', '-extfile', 'ext.cnf']);
    return { cert: readFileSync(join(dir, 'leaf.crt'), 'utf8'), key: readFileSync(join(dir, 'leaf.key'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
