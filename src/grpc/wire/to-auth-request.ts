/**
 * The fields decode-check-request.ts read, as claimcheck's domain request: which header
 * shape wins, how map keys become header names, where the request id comes from.
 */
import type { AuthRequest, Peer } from '../../request.js';

export interface Http {
  id: string;
  method: string;
  path: string;
  host: string;
  scheme: string;
  /** `headers` map entries as they arrived: [key, value, key, value, ...] */
  headers: string[];
  /** header_map entries with raw_value resolved, same layout; '' keys included (they count) */
  headerMap: string[];
}

export interface Attributes {
  source: Peer;
  destination: Peer;
  http: Http | undefined;
  /** context_extensions entries as they arrived, same layout */
  contextExtensions: string[];
}

export const emptyPeer = (): Peer => ({ principal: '', address: '' });

export function toAuthRequest(a: Attributes | undefined): AuthRequest {
  const http = a?.http;
  const headers = new Map<string, string[]>();
  if (http) collectHeaders(http, headers);
  const xRequestId = headers.get('x-request-id')?.find((v) => v !== '');
  return {
    method: http?.method ?? '',
    host: http?.host ?? '',
    path: http?.path ?? '',
    headers,
    contextExtensions: a ? stringRecord(a.contextExtensions) : {},
    requestId: xRequestId ?? http?.id ?? '',
    scheme: http?.scheme ?? '',
    source: a?.source ?? emptyPeer(),
    destination: a?.destination ?? emptyPeer(),
  };
}

/**
 * Envoy sends either the `headers` map (repeated headers comma-joined) or, with
 * encode_raw_headers: true, `header_map` with one entry per occurrence. If a
 * non-empty header_map is present it is the more faithful of the two and wins.
 */
function collectHeaders(http: Http, out: Map<string, string[]>): void {
  const entries = http.headerMap;
  if (entries.length > 0) {
    for (let i = 0; i < entries.length; i += 2) addHeader(out, entries[i], entries[i + 1]);
  } else if (!collectMapFast(http.headers, out)) {
    out.clear();
    const map = lastPerKey(http.headers);
    for (const key of [...map.keys()].sort()) addHeader(out, key, map.get(key)!);
  }
}

function addHeader(out: Map<string, string[]>, key: string, value: string): void {
  if (key === '') return;
  const name = key.toLowerCase();
  const list = out.get(name);
  if (list) list.push(value);
  else out.set(name, [value]);
}

/**
 * The `headers` map as Envoy sends it: unique lowercase names. Then every name has one
 * key and one value, and wire order is as good as any; a repeated key, or two keys that
 * differ in case only, returns false for the order-independent path.
 */
function collectMapFast(kv: string[], out: Map<string, string[]>): boolean {
  for (let i = 0; i < kv.length; i += 2) {
    const key = kv[i];
    if (key === '') continue;
    const name = key.toLowerCase();
    if (out.has(name)) return false;
    out.set(name, [kv[i + 1]]);
  }
  return true;
}

function lastPerKey(kv: string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (let i = 0; i < kv.length; i += 2) map.set(kv[i], kv[i + 1]);
  return map;
}

/** Map entries as a plain object, the last value per key; `__proto__` is an ordinary key. */
function stringRecord(kv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of lastPerKey(kv)) {
    if (key === '__proto__') Object.defineProperty(out, key, { value, writable: true, enumerable: true, configurable: true });
    else out[key] = value;
  }
  return out;
}
