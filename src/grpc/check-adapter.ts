/** CheckRequest/CheckResponse (as decoded by proto-loader, see load-protos.ts) <-> domain. */
import { ClaimcheckError } from '../errors.js';
import type { AuthRequest, Peer } from '../request.js';
import type { DeniedPlan, HeaderToSet, ResponsePlan } from '../respond/plan.js';
import { toStruct } from './struct.js';

type Obj = Record<string, unknown>;

const utf8 = new TextDecoder('utf-8', { fatal: true });

function obj(x: unknown): Obj {
  return typeof x === 'object' && x !== null && !Array.isArray(x) ? (x as Obj) : {};
}

function str(x: unknown): string {
  return typeof x === 'string' ? x : '';
}

/** Never throws: a field of the wrong type reads as empty. */
export function toAuthRequest(req: unknown): AuthRequest {
  const attrs = obj(obj(req).attributes);
  const http = obj(obj(attrs.request).http);
  const headers = readHeaders(http);
  const xRequestId = headers.get('x-request-id')?.find((v) => v !== '');
  return {
    method: str(http.method),
    host: str(http.host),
    path: str(http.path),
    headers,
    contextExtensions: stringMap(attrs.context_extensions),
    requestId: xRequestId ?? str(http.id),
    scheme: str(http.scheme),
    source: readPeer(attrs.source),
    destination: readPeer(attrs.destination),
  };
}

/**
 * Envoy sends either the `headers` map (repeated headers comma-joined) or, with
 * encode_raw_headers: true, `header_map` with one entry per occurrence. If a
 * non-empty header_map is present it is the more faithful of the two and wins.
 */
function readHeaders(http: Obj): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (key: string, value: string) => {
    const name = key.toLowerCase();
    const list = out.get(name);
    if (list) list.push(value);
    else out.set(name, [value]);
  };
  const entries = obj(http.header_map).headers;
  if (Array.isArray(entries) && entries.length > 0) {
    for (const entry of entries) {
      const e = obj(entry);
      const key = str(e.key);
      if (key !== '') add(key, headerValue(e));
    }
    return out;
  }
  for (const [key, value] of Object.entries(obj(http.headers))) {
    if (key !== '' && typeof value === 'string') add(key, value);
  }
  return out;
}

/**
 * raw_value is the header's octets. Valid UTF-8 is decoded as such, which is what
 * the `headers` map carries (Envoy sanitises those to UTF-8); anything else is
 * decoded as latin1 so every byte survives one-to-one instead of becoming U+FFFD.
 */
function headerValue(e: Obj): string {
  const raw = e.raw_value;
  if (raw instanceof Uint8Array && raw.length > 0) {
    try {
      return utf8.decode(raw);
    } catch {
      return Buffer.from(raw.buffer, raw.byteOffset, raw.length).toString('latin1');
    }
  }
  return str(e.value);
}

function stringMap(x: unknown): Record<string, string> {
  return Object.fromEntries(Object.entries(obj(x)).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
}

function readPeer(x: unknown): Peer {
  const peer = obj(x);
  const socket = obj(obj(peer.address).socket_address);
  return { principal: str(peer.principal), address: str(socket.address) };
}

/** HeaderValueOption with overwrite semantics on every Envoy version. */
function headerOption(h: HeaderToSet) {
  return {
    header: { key: h.name, value: h.value },
    // Envoy <= 1.36 reads only the deprecated `append` (false = overwrite); 1.37 briefly
    // read only append_action, whose default APPEND_IF_EXISTS_OR_ADD lets spoofed copies survive.
    append: { value: false },
    append_action: 'OVERWRITE_IF_EXISTS_OR_ADD',
  };
}

/** Shared with wire/encode-check-response.ts: a denial must never read as an allow or a non-error. */
export function assertEncodableDenial(plan: DeniedPlan): void {
  // google.rpc.Code 1..16; 0 would allow the request.
  if (!Number.isInteger(plan.grpcCode) || plan.grpcCode < 1 || plan.grpcCode > 16) {
    throw new ClaimcheckError('invalid_response_plan', `denied plan with gRPC code ${String(plan.grpcCode)}`);
  }
  if (!Number.isInteger(plan.httpStatus) || plan.httpStatus < 400 || plan.httpStatus > 599) {
    throw new ClaimcheckError('invalid_response_plan', `denied plan with HTTP status ${String(plan.httpStatus)}`);
  }
}

/**
 * Encodes a plan as a CheckResponse object. The status is always set: an empty
 * CheckResponse allows in Envoy. Throws ClaimcheckError('invalid_response_plan') for a
 * plan that cannot be encoded faithfully; the server turns that into a 503 denial.
 */
export function toCheckResponse(plan: ResponsePlan): object {
  if (plan.kind === 'ok') {
    const response: Obj = {
      status: { code: 0, message: '' },
      ok_response: {
        headers: plan.headersToSet.map(headerOption),
        headers_to_remove: [...plan.headersToRemove],
        // Envoy >= 1.21; older proxies ignore the field and forward the parameter.
        ...(plan.queryParametersToRemove?.length ? { query_parameters_to_remove: [...plan.queryParametersToRemove] } : {}),
      },
    };
    if (plan.dynamicMetadata && Object.keys(plan.dynamicMetadata).length > 0) {
      response.dynamic_metadata = toStruct(plan.dynamicMetadata);
    }
    return response;
  }
  if (plan.kind === 'denied') {
    assertEncodableDenial(plan);
    return {
      status: { code: plan.grpcCode, message: '' },
      denied_response: {
        status: { code: plan.httpStatus },
        headers: plan.headers.map(headerOption),
        body: plan.body,
      },
    };
  }
  throw new ClaimcheckError('invalid_response_plan', 'response plan of unknown kind');
}
