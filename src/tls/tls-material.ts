/**
 * A listener's certificate, key and client CA read from their files and checked together, so a
 * pair that does not match (a rotation caught half-way, a wrong file) never reaches a server.
 * Messages name the file and the problem, never the content.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { ClaimcheckError } from '../errors.js';

export interface TlsFiles {
  cert: string;
  key: string;
  /** set: client certificates are required and verified against these roots (mTLS) */
  clientCa?: string;
}

export interface TlsMaterial {
  /** the bytes as read, to tell a change from a re-read */
  readonly raw: { cert: Buffer; key: Buffer; clientCa?: Buffer };
  /** what a secure server and setSecureContext take */
  readonly context: SecureContextOptions;
  /** the leaf certificate's notAfter (ms) and SHA-256 fingerprint, for logs and metrics */
  readonly notAfterMs: number;
  readonly fingerprint: string;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** RFC 8996 retired TLS 1.0 and 1.1. */
export const MIN_TLS_VERSION = 'TLSv1.2';
/**
 * The TLS 1.3 suites, then for 1.2 ECDHE with an AEAD only (Mozilla's "intermediate" list
 * without DHE): node's default also allows CBC suites. docs/security.md states it.
 */
export const CIPHERS = [
  'TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

export function readRaw(files: TlsFiles): TlsMaterial['raw'] {
  const read = (what: string, path: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new ClaimcheckError('tls_files_invalid', `${what} file ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  };
  return { cert: read('certificate', files.cert), key: read('key', files.key), ...(files.clientCa ? { clientCa: read('client CA', files.clientCa) } : {}) };
}

export function sameRaw(a: TlsMaterial['raw'], b: TlsMaterial['raw']): boolean {
  return a.cert.equals(b.cert) && a.key.equals(b.key) && (a.clientCa === undefined ? b.clientCa === undefined : b.clientCa !== undefined && a.clientCa.equals(b.clientCa));
}

/** Checks `raw` as a whole; throws tls_files_invalid naming the file at fault. */
export function toMaterial(files: TlsFiles, raw: TlsMaterial['raw']): TlsMaterial {
  const invalid = (message: string) => new ClaimcheckError('tls_files_invalid', message);
  const chain = raw.cert.toString('utf8').match(PEM_CERT) ?? [];
  if (chain.length === 0) throw invalid(`certificate file ${files.cert} holds no PEM certificate`);
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(chain[0]!);
  } catch {
    throw invalid(`certificate file ${files.cert} holds a certificate that cannot be parsed`);
  }
  let key;
  try {
    key = createPrivateKey(raw.key);
  } catch {
    throw invalid(`key file ${files.key} holds no private key that can be read`);
  }
  if (!leaf.checkPrivateKey(key)) throw invalid(`key file ${files.key} does not match the certificate in ${files.cert}`);
  if (Date.parse(leaf.validTo) <= Date.now()) throw invalid(`certificate in ${files.cert} expired on ${leaf.validTo}`);
  let ca: string[] | undefined;
  if (raw.clientCa) {
    ca = raw.clientCa.toString('utf8').match(PEM_CERT) ?? [];
    if (ca.length === 0) throw invalid(`client CA file ${files.clientCa} holds no PEM certificate`);
    for (const c of ca) {
      try {
        new X509Certificate(c);
      } catch {
        throw invalid(`client CA file ${files.clientCa} holds a certificate that cannot be parsed`);
      }
    }
  }
  const context: SecureContextOptions = { cert: raw.cert, key: raw.key, minVersion: MIN_TLS_VERSION, ciphers: CIPHERS, ...(ca ? { ca } : {}) };
  try {
    createSecureContext(context);
  } catch (err) {
    throw invalid(`certificate ${files.cert} and key ${files.key} are refused by TLS (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return Object.freeze({ raw, context, notAfterMs: Date.parse(leaf.validTo), fingerprint: leaf.fingerprint256 });
}
