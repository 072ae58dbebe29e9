/**
 * How claimcheck authenticates to one introspection endpoint: client_secret_basic (RFC 6749
 * §2.3.1) or private_key_jwt (RFC 7523 §2.2 with RFC 7521 §4.2's parameters). The credential
 * is read from its file or Secret again once it is SECRET_REREAD_MS old, never on every miss.
 * Nothing of it reaches a log line: a failure is reported by the caller as "not available".
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { CompiledIssuer } from '../compile/snapshot.js';
import { readSigningKey, type SigningKey } from '../identity/signing-key.js';
import { signJwt } from '../identity/sign-jwt.js';
import type { SecretReader } from './local-key-source.js';
import type { Scheduler } from './scheduler.js';

export const SECRET_REREAD_MS = 2000;
/** long enough for a slow endpoint and some clock skew; a replay window the IdP closes with jti */
export const ASSERTION_LIFETIME_SEC = 60;
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** What one introspection request adds: an Authorization header, or form parameters. */
export interface ClientAuthentication {
  headers: Record<string, string>;
  /** `&name=value...`, form-encoded, to append to the body */
  form: string;
}

type Credential = { kind: 'secret'; basic: string } | { kind: 'key'; key: SigningKey };

export class ClientCredential {
  private cached: { credential: Credential; readAtMs: number } | undefined;

  constructor(private issuer: CompiledIssuer, private readonly scheduler: Scheduler, private readonly readSecret?: SecretReader) {}

  update(issuer: CompiledIssuer): void {
    this.issuer = issuer;
    this.cached = undefined;
  }

  /** undefined: the credential cannot be read or is not usable */
  authenticate(): ClientAuthentication | undefined {
    const credential = this.credential();
    if (!credential) return undefined;
    if (credential.kind === 'secret') return { headers: { authorization: `Basic ${credential.basic}` }, form: '' };
    const cfg = this.issuer.introspection!;
    const now = Math.floor(this.scheduler.now() / 1000);
    const assertion = signJwt(credential.key, {
      iss: cfg.clientId,
      sub: cfg.clientId,
      aud: cfg.assertionAudience,
      jti: randomBytes(16).toString('base64url'),
      iat: now,
      exp: now + ASSERTION_LIFETIME_SEC,
    });
    return { headers: {}, form: `&client_assertion_type=${formEncode(ASSERTION_TYPE)}&client_assertion=${assertion}` };
  }

  private credential(): Credential | undefined {
    const now = this.scheduler.now();
    if (this.cached && now - this.cached.readAtMs < SECRET_REREAD_MS) return this.cached.credential;
    const credential = this.read();
    this.cached = credential ? { credential, readAtMs: now } : undefined;
    return credential;
  }

  private read(): Credential | undefined {
    const cfg = this.issuer.introspection!;
    let content: Buffer | undefined;
    try {
      content = cfg.secretPath !== undefined ? readFileSync(cfg.secretPath) : cfg.secretRef ? this.readSecret?.(this.issuer, cfg.secretRef) : undefined;
    } catch {
      return undefined;
    }
    if (!content || content.length === 0) return undefined;
    if (cfg.clientAuth === 'private_key_jwt') {
      const name = cfg.secretPath ?? cfg.secretRef?.key ?? 'client.pem';
      const read = readSigningKey(name, content.toString('utf8'));
      return read.ok ? { kind: 'key', key: read.key } : undefined;
    }
    // a trailing newline from `echo` or an editor is not part of the secret
    const secret = content.toString('utf8').replace(/\r?\n$/, '');
    // RFC 6749 §2.3.1: client id and secret form-encoded, then joined for HTTP Basic
    return { kind: 'secret', basic: Buffer.from(`${formEncode(cfg.clientId)}:${formEncode(secret)}`).toString('base64') };
  }
}

/** application/x-www-form-urlencoded (WHATWG URL §5.2): what URLSearchParams writes */
export const formEncode = (s: string): string => new URLSearchParams({ v: s }).toString().slice(2);
