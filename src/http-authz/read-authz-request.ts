/**
 * An HTTP authorization request as claimcheck's domain request (docs/http-authz.md):
 *
 * - `/ext-authz/<path>`: Envoy's `http_service` (Istio `envoyExtAuthzHttp`) sends the
 *   original method, path and headers, the path behind its `path_prefix`. Here the
 *   X-Forwarded-* and X-Original-* headers are the client's and steer nothing.
 * - `/forward-auth`: Traefik, Caddy and nginx send their own request and describe the
 *   original one in headers they set themselves.
 */
import type { AuthRequest, Peer } from '../request.js';
import type { DenyReason } from '../reasons.js';

export const EXT_AUTHZ_PREFIX = '/ext-authz';
export const FORWARD_AUTH_PATH = '/forward-auth';

export type Convention = 'ext-authz' | 'forward-auth';

/** What the server knows of the request before the body: Node's parsed request line and raw headers. */
export interface RawHttpRequest {
  method: string;
  url: string;
  /** [name, value, name, value, …] as received, names in their original case */
  rawHeaders: readonly string[];
}

export type ReadResult = { ok: true; convention: Convention; request: AuthRequest } | { ok: false; reason: Extract<DenyReason, 'unknown_endpoint' | 'missing_original_uri' | 'conflicting_original_request'> };

// The connection to claimcheck, not the original request: never part of what is decided on.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'content-length']);

const NO_PEER: Peer = Object.freeze({ principal: '', address: '' });

export function conventionOf(url: string): Convention | undefined {
  if (url.startsWith(EXT_AUTHZ_PREFIX)) {
    // Envoy joins path_prefix and :path, and :path always starts with '/'.
    return url.charCodeAt(EXT_AUTHZ_PREFIX.length) === 47 ? 'ext-authz' : undefined;
  }
  const q = url.indexOf('?');
  return (q === -1 ? url : url.slice(0, q)) === FORWARD_AUTH_PATH ? 'forward-auth' : undefined;
}

/** `convention`: the listener looks it up first (it decides the status of a 503), so once is enough. */
export function readAuthzRequest(raw: RawHttpRequest, convention = conventionOf(raw.url)): ReadResult {
  if (!convention) return { ok: false, reason: 'unknown_endpoint' };
  const headers = collectHeaders(raw.rawHeaders);
  const requestId = first(headers, 'x-request-id') ?? '';
  if (convention === 'ext-authz') {
    return {
      ok: true,
      convention,
      request: {
        method: raw.method,
        host: first(headers, 'host') ?? '',
        path: raw.url.slice(EXT_AUTHZ_PREFIX.length),
        headers,
        contextExtensions: {},
        requestId,
        scheme: '',
        source: NO_PEER,
        destination: NO_PEER,
      },
    };
  }
  const url = first(headers, 'x-original-url');
  const fromUrl = url === undefined ? undefined : (parseUrl(url) ?? { path: url });
  const original = originalTarget(headers, fromUrl);
  if (!original) return { ok: false, reason: 'missing_original_uri' };
  if (!agree(headers, fromUrl)) return { ok: false, reason: 'conflicting_original_request' };
  return {
    ok: true,
    convention,
    request: {
      method: first(headers, 'x-forwarded-method') ?? first(headers, 'x-original-method') ?? raw.method,
      host: first(headers, 'x-forwarded-host') ?? original.host ?? first(headers, 'host') ?? '',
      path: original.path,
      headers,
      contextExtensions: {},
      requestId,
      scheme: (first(headers, 'x-forwarded-proto') ?? original.scheme ?? '').toLowerCase(),
      source: NO_PEER,
      destination: NO_PEER,
    },
  };
}

/**
 * X-Forwarded-Uri (Traefik, Caddy), else X-Original-URI (nginx auth_request as the docs
 * configure it), else X-Original-URL (ingress-nginx: scheme://host/path?query). A URI
 * header that is not origin-form is passed on as is: normalisation refuses it (400).
 */
type OriginalTarget = { path: string; host?: string; scheme?: string };

function originalTarget(headers: ReadonlyMap<string, readonly string[]>, fromUrl: OriginalTarget | undefined): OriginalTarget | undefined {
  const uri = first(headers, 'x-forwarded-uri') ?? first(headers, 'x-original-uri');
  return uri !== undefined ? { path: uri } : fromUrl;
}

function parseUrl(url: string): { scheme: string; host: string; path: string } | undefined {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)(.*)$/.exec(url);
  return m ? { scheme: m[1]!, host: m[2]!, path: m[3] === '' ? '/' : m[3]! } : undefined;
}

export const STEERING = ['x-forwarded-method', 'x-forwarded-uri', 'x-forwarded-host', 'x-forwarded-proto', 'x-original-method', 'x-original-uri', 'x-original-url'];

/**
 * Proxies that pass the client's headers on to the check (ingress-nginx, Traefik, Caddy)
 * would let a client add its own X-Forwarded-Uri beside the proxy's X-Original-URL, and
 * the X-Forwarded-* headers win. So a steering header given twice, or two that name a
 * different method, path or host, is a 400 rather than a guess.
 */
function agree(headers: ReadonlyMap<string, readonly string[]>, fromUrl: OriginalTarget | undefined): boolean {
  for (const name of STEERING) if ((headers.get(name)?.length ?? 0) > 1) return false;
  const forwardedUri = first(headers, 'x-forwarded-uri');
  const originalUri = first(headers, 'x-original-uri');
  if (forwardedUri !== undefined && originalUri !== undefined && originalUri !== forwardedUri) return false;
  if (fromUrl && (forwardedUri ?? originalUri ?? fromUrl.path) !== fromUrl.path) return false;
  const forwardedHost = first(headers, 'x-forwarded-host');
  if (forwardedHost !== undefined && fromUrl?.host !== undefined && fromUrl.host.toLowerCase() !== forwardedHost.toLowerCase()) return false;
  const fm = first(headers, 'x-forwarded-method');
  const om = first(headers, 'x-original-method');
  return fm === undefined || om === undefined || fm === om;
}

function first(headers: ReadonlyMap<string, readonly string[]>, name: string): string | undefined {
  return headers.get(name)?.[0];
}

function collectHeaders(raw: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (HOP_BY_HOP.has(name)) continue;
    const list = out.get(name);
    if (list) list.push(raw[i + 1]!);
    else out.set(name, [raw[i + 1]!]);
  }
  return out;
}
