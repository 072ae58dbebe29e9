/** One guarded GET of a JSON document for key material (JWKS or OIDC discovery), or a POST (token introspection). */
import http from 'node:http';
import https from 'node:https';
import { ClaimcheckError } from '../errors.js';

export const MAX_BODY_BYTES = 512 * 1024;

export interface FetchOptions {
  /** PEM roots; when set, the only trust anchors (`jwks.caBundle`) */
  caBundle?: string;
  allowInsecureHttp: boolean;
  timeoutMs: number;
  maxBytes?: number;
  /** a POST with this body and these headers instead of a GET (token introspection) */
  post?: { body: string; headers: Record<string, string> };
  /** keep-alive connections of one caller (its own, holding its caBundle); without it, a connection per fetch */
  agent?: http.Agent;
}

export interface FetchedJson {
  body: unknown;
  /** Cache-Control max-age in seconds, when the response carried one */
  maxAgeSec?: number;
}

/**
 * Error codes: key_fetch_refused, key_fetch_failed (connection), key_fetch_tls, key_fetch_status,
 * key_fetch_redirect, key_fetch_too_large, key_fetch_timeout, key_fetch_invalid. Messages are coarse
 * and built here (no URL, no server text), because they end up in /readyz and `claimcheck check`.
 */
export function fetchJson(url: string, opts: FetchOptions): Promise<FetchedJson> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return Promise.reject(new ClaimcheckError('key_fetch_refused', 'invalid URL'));
  }
  if (parsed.protocol === 'http:' && !opts.allowInsecureHttp) {
    return Promise.reject(new ClaimcheckError('key_fetch_refused', 'http:// refused without allowInsecureHttp'));
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    return Promise.reject(new ClaimcheckError('key_fetch_refused', `unsupported scheme ${parsed.protocol}`));
  }
  const maxBytes = opts.maxBytes ?? MAX_BODY_BYTES;
  return new Promise<FetchedJson>((resolve, reject) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    let req: http.ClientRequest | undefined;
    const fail = (err: ClaimcheckError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req?.destroy();
      reject(err);
    };
    const headers = { accept: 'application/json, application/jwk-set+json', 'user-agent': 'claimcheck', ...opts.post?.headers };
    const method = opts.post ? 'POST' : 'GET';
    // Without opts.agent, a fresh agent-less request each time: `ca` must not leak between issuers through a shared agent.
    const send = (mayRetry: boolean): void => {
      try {
        req =
          parsed.protocol === 'https:'
            ? https.request(parsed, { method, headers, agent: opts.agent ?? false, ...(opts.caBundle && !opts.agent ? { ca: opts.caBundle } : {}) })
            : http.request(parsed, { method, headers, agent: opts.agent ?? false });
      } catch (err) {
        // e.g. a caBundle that is not PEM
        fail(new ClaimcheckError('key_fetch_tls', 'TLS setup failed (caBundle)', { cause: err }));
        return;
      }
      const sent = req;
      sent.on('error', (err: Error & { code?: unknown }) => {
        // a kept-alive connection the server closed as it was reused: once more on a new one (node's http.Agent docs)
        if (mayRetry && sent.reusedSocket && err.code === 'ECONNRESET' && !settled) send(false);
        else fail(connectionError(err));
      });
      sent.on('response', (res) => onResponse(res));
      sent.end(opts.post?.body);
    };
    timer = setTimeout(() => fail(new ClaimcheckError('key_fetch_timeout', `timed out after ${opts.timeoutMs} ms`)), opts.timeoutMs);
    timer.unref();
    const onResponse = (res: http.IncomingMessage): void => {
      const status = res.statusCode ?? 0;
      // Redirects are not followed: a JWKS location is configuration, not something a server may move.
      if (status >= 300 && status < 400) {
        res.resume();
        fail(new ClaimcheckError('key_fetch_redirect', `redirect (HTTP ${status}) not followed`));
        return;
      }
      if (status !== 200) {
        res.resume();
        fail(new ClaimcheckError('key_fetch_status', `HTTP ${status}`));
        return;
      }
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > maxBytes) {
        fail(new ClaimcheckError('key_fetch_too_large', `body over ${maxBytes} bytes`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) {
          fail(new ClaimcheckError('key_fetch_too_large', `body over ${maxBytes} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      res.on('error', (err) => fail(connectionError(err)));
      res.on('aborted', () => fail(new ClaimcheckError('key_fetch_failed', 'connection closed')));
      res.on('end', () => {
        if (settled) return;
        let body: unknown;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          fail(new ClaimcheckError('key_fetch_invalid', 'body is not JSON'));
          return;
        }
        settled = true;
        clearTimeout(timer);
        resolve({ body, maxAgeSec: parseMaxAge(res.headers['cache-control']) });
      });
    };
    send(true);
  });
}

const TLS_ERROR = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|SELF_SIGNED_|DEPTH_ZERO_|EPROTO$|HOSTNAME_MISMATCH)/;

/** Only the errno-style code of a socket or TLS error: node's message names hosts and addresses. */
function connectionError(err: Error & { code?: unknown }): ClaimcheckError {
  const code = typeof err.code === 'string' ? err.code : undefined;
  if (code && TLS_ERROR.test(code)) return new ClaimcheckError('key_fetch_tls', `TLS verification failed (${code})`, { cause: err });
  return new ClaimcheckError('key_fetch_failed', code ? `connection failed (${code})` : 'connection failed', { cause: err });
}

/** RFC 9111 §5.2.2.1; no-store/no-cache are treated as max-age=0 (the caller clamps to its minimum). */
export function parseMaxAge(header: string | undefined): number | undefined {
  if (!header) return undefined;
  let result: number | undefined;
  for (const directive of header.toLowerCase().split(',')) {
    const [name, value] = directive.trim().split('=', 2);
    if (name === 'no-store' || name === 'no-cache') return 0;
    if (name === 'max-age' && value !== undefined) {
      const n = Number(value.replace(/^"|"$/g, ''));
      if (Number.isInteger(n) && n >= 0) result = n;
    }
  }
  return result;
}
