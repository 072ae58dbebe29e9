/** --grpc-tls-*, --http-tls-* and --authz-http-tls-*: TLS, and with a client CA mTLS, per listener (docs/security.md#tls). */
import type { TlsFiles, TlsListener } from '../tls/server-tls.js';
import { badFlag, optional, text, type Flag } from './flag.js';

const WHAT: Record<TlsListener, string> = { grpc: 'the gRPC listener', http: 'the HTTP listener (/healthz, /readyz, /metrics)', 'authz-http': 'the HTTP authorization listener' };

function tlsFlags<P extends TlsListener>(listener: P) {
  const what = WHAT[listener];
  return {
    [`${listener}-tls-cert`]: optional(['serve'], text, {
      value: 'FILE',
      defaultText: 'plaintext',
      help: `PEM certificate (chain) for ${what}; needs --${listener}-tls-key`,
      doc: `PEM certificate, leaf first, then intermediates: ${what} serves TLS 1.2 or 1.3. Read again every second: a changed certificate and key that match are used for new connections (open ones keep theirs); a pair that does not match is logged and counted, and the last good pair keeps serving ([security.md](security.md#tls-on-claimchecks-listeners))`,
    }),
    [`${listener}-tls-key`]: optional(['serve'], text, {
      value: 'FILE',
      defaultText: 'plaintext',
      help: `PEM private key of --${listener}-tls-cert`,
    }),
    [`${listener}-tls-client-ca`]: optional(['serve'], text, {
      value: 'FILE',
      defaultText: 'no client certificates',
      help: `PEM CA certificates: ${what} requires a client certificate they issued (mTLS)`,
      doc: `PEM CA certificates: a client of ${what} must present a certificate that chains to one of them, or the handshake fails (mTLS). Read again with the certificate`,
    }),
  } as { [K in `${P}-tls-cert` | `${P}-tls-key` | `${P}-tls-client-ca`]: Flag<string | undefined> };
}

export const TLS_FLAGS = { ...tlsFlags('grpc'), ...tlsFlags('http'), ...tlsFlags('authz-http') };

type Values = { readonly [K in keyof typeof TLS_FLAGS]: string | undefined };

/** The listener's files, or undefined for plaintext; a key without a certificate (or the reverse) is a bad flag. */
export function tlsFilesFor(v: Values, listener: TlsListener): TlsFiles | undefined {
  const cert = v[`${listener}-tls-cert`];
  const key = v[`${listener}-tls-key`];
  const clientCa = v[`${listener}-tls-client-ca`];
  if (cert === undefined && key === undefined) {
    if (clientCa !== undefined) badFlag(`--${listener}-tls-client-ca needs --${listener}-tls-cert and --${listener}-tls-key`);
    return undefined;
  }
  if (cert === undefined || key === undefined) badFlag(`--${listener}-tls-cert and --${listener}-tls-key go together`);
  return { cert, key, ...(clientCa !== undefined ? { clientCa } : {}) };
}
