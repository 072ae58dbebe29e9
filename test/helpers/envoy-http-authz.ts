/**
 * Envoy's HTTP ext_authz client (`http_service`), modelled from its source so that tests
 * can send claimcheck exactly the request Envoy sends and read the answer exactly as
 * Envoy reads it. Sources (envoyproxy/envoy):
 * - source/extensions/filters/common/ext_authz/ext_authz_http_impl.cc: check() copies the
 *   allowed headers, puts path_prefix before :path, skips content-length and sends
 *   `content-length: 0`; toResponse(): 5xx is an error, 200 allows (answer headers
 *   matching allowed_upstream_headers are set, x-envoy-auth-headers-to-remove lists
 *   headers to remove and is itself dropped), anything else denies with the status,
 *   body and the headers matching allowed_client_headers (all but Host when unset;
 *   www-authenticate, location and content-length added when set).
 * - check_request_utils.cc toRequestMatchers(): authorization, :method, :path and
 *   :authority are always allowed for an HTTP service.
 * - source/common/http/async_client_impl.cc and envoy/http/async_client.h (send_internal
 *   and send_xff default to true): every request gets `x-envoy-internal: true` and Envoy's
 *   own address appended to `x-forwarded-for`; the router (its x-envoy-* headers are not
 *   suppressed for the async client) adds `x-envoy-expected-rq-timeout-ms`.
 * - source/extensions/filters/http/ext_authz/ext_authz.cc onComplete(): an error is let
 *   through under failure_mode_allow, else answered with status_on_error and no body;
 *   headers_to_remove never removes pseudo-headers or host; a denial is a local reply.
 */

export interface StringMatcher {
  exact?: string;
  prefix?: string;
  suffix?: string;
  contains?: string;
  /** RE2 in Envoy, matched against the whole name; JavaScript's engine agrees on the patterns used here */
  safe_regex?: { regex: string };
  ignore_case?: boolean;
}

export interface EnvoyHttpAuthz {
  pathPrefix: string;
  timeoutMs: number;
  allowedHeaders: StringMatcher[];
  allowedUpstreamHeaders: StringMatcher[];
  allowedClientHeaders: StringMatcher[];
  allowedClientHeadersOnSuccess: StringMatcher[];
  failureModeAllow: boolean;
  statusOnError: number;
}

/** The downstream request as the filter sees it (after the connection manager). */
export interface DownstreamRequest {
  method: string;
  path: string;
  authority: string;
  headers: [string, string][];
}

export type EnvoyOutcome =
  | { kind: 'allowed'; upstreamHeaders: [string, string][]; clientHeaders: [string, string][] }
  | { kind: 'denied'; status: number; clientHeaders: [string, string][]; body: string }
  | { kind: 'error'; status: number; body: '' }
  | { kind: 'error-allowed'; upstreamHeaders: [string, string][] };

const STATUS_CODES: Record<string, number> = { ServiceUnavailable: 503, Forbidden: 403, InternalServerError: 500, Unauthorized: 401 };
const patterns = (l: { patterns?: StringMatcher[] } | undefined): StringMatcher[] => l?.patterns ?? [];

function durationMs(d: string): number {
  const m = /^(\d+(?:\.\d+)?)s$/.exec(d);
  if (!m) throw new Error(`not a proto Duration: ${d}`);
  return Math.round(Number(m[1]) * 1000);
}

/** From an `envoy.extensions.filters.http.ext_authz.v3.ExtAuthz` in proto JSON (snake_case). */
export function fromExtAuthz(cfg: any): EnvoyHttpAuthz {
  const svc = cfg.http_service;
  if (!svc) throw new Error('not an http_service ext_authz config');
  const code = cfg.status_on_error?.code;
  return {
    pathPrefix: svc.path_prefix ?? '',
    timeoutMs: durationMs(svc.server_uri.timeout),
    allowedHeaders: patterns(cfg.allowed_headers ?? svc.authorization_request?.allowed_headers),
    allowedUpstreamHeaders: patterns(svc.authorization_response?.allowed_upstream_headers),
    allowedClientHeaders: patterns(svc.authorization_response?.allowed_client_headers),
    allowedClientHeadersOnSuccess: patterns(svc.authorization_response?.allowed_client_headers_on_success),
    failureModeAllow: cfg.failure_mode_allow === true,
    statusOnError: code === undefined ? 403 : typeof code === 'number' ? code : STATUS_CODES[code] ?? 403,
  };
}

/** Istio's translation of a list (pilot/pkg/security/authz/builder/extauthz.go generateHeaders). */
function istioHeaders(list: string[] | undefined): StringMatcher[] {
  return (list ?? []).map((h) => (h.startsWith('*') ? { suffix: h.slice(1), ignore_case: true } : h.endsWith('*') ? { prefix: h.slice(0, -1), ignore_case: true } : { exact: h, ignore_case: true }));
}

/** From an Istio `envoyExtAuthzHttp` provider, as istiod builds the filter from it. */
export function fromIstioProvider(p: any): EnvoyHttpAuthz {
  return {
    pathPrefix: p.pathPrefix ?? '',
    timeoutMs: p.timeout ? durationMs(p.timeout) : 600_000,
    allowedHeaders: istioHeaders(p.includeRequestHeadersInCheck),
    allowedUpstreamHeaders: istioHeaders(p.headersToUpstreamOnAllow),
    allowedClientHeaders: istioHeaders(p.headersToDownstreamOnDeny),
    allowedClientHeadersOnSuccess: istioHeaders(p.headersToDownstreamOnAllow),
    failureModeAllow: p.failOpen === true,
    statusOnError: p.statusOnError ? Number(p.statusOnError) : 403,
  };
}

/** From an Envoy Gateway SecurityPolicy `extAuth` with `http` (internal/xds/translator/extauth.go). */
export function fromEnvoyGateway(extAuth: any): EnvoyHttpAuthz {
  const exact = (l: string[] | undefined) => (l ?? []).map((exact) => ({ exact }));
  const t = /^(\d+)(ms|s)$/.exec(extAuth.timeout ?? '10s');
  return {
    pathPrefix: extAuth.http.path ?? '',
    timeoutMs: t ? Number(t[1]) * (t[2] === 's' ? 1000 : 1) : 10_000,
    allowedHeaders: exact(extAuth.headersToExtAuth),
    allowedUpstreamHeaders: exact(extAuth.http.headersToBackend),
    allowedClientHeaders: [],
    allowedClientHeadersOnSuccess: [],
    failureModeAllow: extAuth.failOpen === true,
    statusOnError: extAuth.statusOnError ?? 403,
  };
}

export function matches(list: StringMatcher[], name: string): boolean {
  return list.some((m) => {
    const n = m.ignore_case ? name.toLowerCase() : name;
    const v = (s: string) => (m.ignore_case ? s.toLowerCase() : s);
    if (m.exact !== undefined) return n === v(m.exact);
    if (m.prefix !== undefined) return n.startsWith(v(m.prefix));
    if (m.suffix !== undefined) return n.endsWith(v(m.suffix));
    if (m.contains !== undefined) return n.includes(v(m.contains));
    if (m.safe_regex !== undefined) return new RegExp(`^(?:${m.safe_regex.regex})$`).test(name);
    return false;
  });
}

// The connection manager drops these from every response (conn_manager_utility.cc mutateResponseHeaders).
const HOP_BY_HOP = ['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'upgrade'];

const ALWAYS_SENT: StringMatcher[] = ['authorization', ':method', ':path', ':authority'].map((exact) => ({ exact }));

/** Envoy's own address (local_info), which its async client appends to x-forwarded-for. */
export const ENVOY_ADDRESS = '10.1.2.3';

/** The HTTP/1.1 request Envoy sends the authorization service: [method, target, headers]. */
export function checkRequest(cfg: EnvoyHttpAuthz, req: DownstreamRequest): { method: string; target: string; headers: [string, string][] } {
  // Repeated headers reach the CheckRequest joined with "," (encode_raw_headers: false).
  const joined = new Map<string, string>();
  for (const [name, value] of req.headers) {
    const n = name.toLowerCase();
    joined.set(n, joined.has(n) ? `${joined.get(n)},${value}` : value);
  }
  const headers: [string, string][] = [['host', req.authority]];
  for (const [name, value] of joined) {
    if (name === 'content-length' || name === 'host') continue;
    if (matches(cfg.allowedHeaders, name) || matches(ALWAYS_SENT, name)) headers.push([name, value]);
  }
  headers.push(['content-length', '0'], ['x-envoy-internal', 'true']);
  const xff = headers.find(([n]) => n === 'x-forwarded-for');
  if (xff) xff[1] = `${xff[1]},${ENVOY_ADDRESS}`;
  else headers.push(['x-forwarded-for', ENVOY_ADDRESS]);
  headers.push(['x-envoy-expected-rq-timeout-ms', String(cfg.timeoutMs)]);
  return { method: req.method, target: cfg.pathPrefix + req.path, headers };
}

/** What Envoy does with the authorization service's answer (or with no answer: `undefined`). */
export function envoyOutcome(cfg: EnvoyHttpAuthz, req: DownstreamRequest, answer: { status: number; headers: Map<string, string[]>; body: string } | undefined): EnvoyOutcome {
  if (!answer || answer.status >= 500) {
    return cfg.failureModeAllow ? { kind: 'error-allowed', upstreamHeaders: req.headers } : { kind: 'error', status: cfg.statusOnError, body: '' };
  }
  const flat: [string, string][] = [];
  for (const [n, vs] of answer.headers) for (const v of vs) if (n !== 'x-envoy-auth-headers-to-remove') flat.push([n, v]);
  if (answer.status === 200) {
    const remove = (answer.headers.get('x-envoy-auth-headers-to-remove') ?? []).flatMap((v) => v.split(',')).map((s) => s.trim().toLowerCase()).filter((s) => s !== '');
    const set = flat.filter(([n]) => matches(cfg.allowedUpstreamHeaders, n));
    let upstream = req.headers.filter(([n]) => !set.some(([s]) => s === n.toLowerCase()));
    upstream.push(...set);
    upstream = upstream.filter(([n]) => n.startsWith(':') || n.toLowerCase() === 'host' || !remove.includes(n.toLowerCase()));
    return { kind: 'allowed', upstreamHeaders: upstream, clientHeaders: flat.filter(([n]) => matches(cfg.allowedClientHeadersOnSuccess, n)) };
  }
  const client = cfg.allowedClientHeaders.length === 0
    ? flat.filter(([n]) => n !== 'host' && !HOP_BY_HOP.includes(n))
    : flat.filter(([n]) => matches(cfg.allowedClientHeaders, n) || ['content-length', 'www-authenticate', 'location'].includes(n));
  // A local reply with a body is text/plain unless an answer header says otherwise (Http::Utility::sendLocalReply).
  if (answer.body !== '' && !client.some(([n]) => n === 'content-type')) client.push(['content-type', 'text/plain']);
  return { kind: 'denied', status: answer.status, clientHeaders: client, body: answer.body };
}
