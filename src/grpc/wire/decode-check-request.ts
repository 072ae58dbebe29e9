/**
 * CheckRequest bytes -> AuthRequest without building the protobuf object tree.
 * Produces exactly what toAuthRequest(requestDeserialize(bytes)) does (see
 * check-adapter.ts; test/unit/grpc-wire.test.ts compares the two), including where
 * protobufjs departs from the protobuf spec:
 * - an embedded message that occurs twice REPLACES the earlier one, it is not merged;
 * - map keys keep JavaScript object key order (integer-like keys first, ascending)
 *   and a duplicate key keeps its first position with the last value.
 * Every field is matched on its full tag, so a known field number with another wire
 * type is skipped like an unknown field instead of being misread.
 */
import { isUtf8 } from 'node:buffer';
import type { AuthRequest, Peer } from '../../request.js';
import { LEN, WireReader } from './reader.js';

const tag = (field: number, wireType: number) => (field << 3) | wireType;

const CHECK_REQUEST_ATTRIBUTES = tag(1, LEN);
const ATTRS_SOURCE = tag(1, LEN);
const ATTRS_DESTINATION = tag(2, LEN);
const ATTRS_REQUEST = tag(4, LEN);
const ATTRS_CONTEXT_EXTENSIONS = tag(10, LEN);
const PEER_ADDRESS = tag(1, LEN);
const PEER_PRINCIPAL = tag(4, LEN);
const ADDRESS_SOCKET_ADDRESS = tag(1, LEN);
const SOCKET_ADDRESS_ADDRESS = tag(2, LEN);
const REQUEST_HTTP = tag(2, LEN);
const HTTP_ID = tag(1, LEN);
const HTTP_METHOD = tag(2, LEN);
const HTTP_HEADERS = tag(3, LEN);
const HTTP_PATH = tag(4, LEN);
const HTTP_HOST = tag(5, LEN);
const HTTP_SCHEME = tag(6, LEN);
const HTTP_HEADER_MAP = tag(13, LEN);
const HEADER_MAP_HEADERS = tag(1, LEN);
const HEADER_VALUE_KEY = tag(1, LEN);
const HEADER_VALUE_VALUE = tag(2, LEN);
const HEADER_VALUE_RAW = tag(3, LEN);
const MAP_KEY = tag(1, LEN);
const MAP_VALUE = tag(2, LEN);

interface Http {
  id: string;
  method: string;
  path: string;
  host: string;
  scheme: string;
  /** `headers` map entries as they arrived: [key, value, key, value, ...] */
  headers: string[] | undefined;
  /** header_map entries with raw_value resolved, same layout; '' keys included (they count) */
  headerMap: string[] | undefined;
}

interface Attributes {
  source: Peer;
  destination: Peer;
  http: Http | undefined;
  contextExtensions: string[];
}

const emptyPeer = (): Peer => ({ principal: '', address: '' });

/** Throws ClaimcheckError('invalid_request_proto') for bytes that are not a CheckRequest. */
export function decodeCheckRequest(buf: Buffer): AuthRequest {
  const r = new WireReader(buf);
  const end = buf.length;
  let attrs: Attributes | undefined;
  while (r.pos < end) {
    const t = r.tag(end);
    if (t === CHECK_REQUEST_ATTRIBUTES) attrs = readAttributes(r, r.lengthEnd(end));
    else r.skip(t & 7, end);
  }
  return toDomain(attrs);
}

function readAttributes(r: WireReader, end: number): Attributes {
  const a: Attributes = { source: emptyPeer(), destination: emptyPeer(), http: undefined, contextExtensions: [] };
  while (r.pos < end) {
    const t = r.tag(end);
    if (t === ATTRS_REQUEST) a.http = readRequest(r, r.lengthEnd(end));
    else if (t === ATTRS_SOURCE) a.source = readPeer(r, r.lengthEnd(end));
    else if (t === ATTRS_DESTINATION) a.destination = readPeer(r, r.lengthEnd(end));
    else if (t === ATTRS_CONTEXT_EXTENSIONS) readMapEntry(r, r.lengthEnd(end), a.contextExtensions);
    else r.skip(t & 7, end);
  }
  return a;
}

function readPeer(r: WireReader, end: number): Peer {
  const peer = emptyPeer();
  while (r.pos < end) {
    const t = r.tag(end);
    if (t === PEER_PRINCIPAL) peer.principal = r.string(end);
    else if (t === PEER_ADDRESS) peer.address = readAddress(r, r.lengthEnd(end));
    else r.skip(t & 7, end);
  }
  return peer;
}

/**
 * A message of which one field is read: its last occurrence wins (protobufjs replaces,
 * see the file comment) and every other field is skipped.
 */
function lastOf<T>(r: WireReader, end: number, want: number, read: (end: number) => T, none: T): T {
  let value = none;
  while (r.pos < end) {
    const t = r.tag(end);
    if (t === want) value = read(end);
    else r.skip(t & 7, end);
  }
  return value;
}

/** Address -> socket_address -> address */
function readAddress(r: WireReader, end: number): string {
  return lastOf(r, end, ADDRESS_SOCKET_ADDRESS, (e) => lastOf(r, r.lengthEnd(e), SOCKET_ADDRESS_ADDRESS, (e2) => r.string(e2), ''), '');
}

function readRequest(r: WireReader, end: number): Http | undefined {
  return lastOf<Http | undefined>(r, end, REQUEST_HTTP, (e) => readHttp(r, r.lengthEnd(e)), undefined);
}

function readHttp(r: WireReader, end: number): Http {
  const h: Http = { id: '', method: '', path: '', host: '', scheme: '', headers: undefined, headerMap: undefined };
  while (r.pos < end) {
    const t = r.tag(end);
    switch (t) {
      case HTTP_HEADERS:
        readMapEntry(r, r.lengthEnd(end), (h.headers ??= []));
        break;
      case HTTP_HEADER_MAP:
        h.headerMap = readHeaderMap(r, r.lengthEnd(end));
        break;
      case HTTP_METHOD:
        h.method = r.string(end);
        break;
      case HTTP_PATH:
        h.path = r.string(end);
        break;
      case HTTP_HOST:
        h.host = r.string(end);
        break;
      case HTTP_SCHEME:
        h.scheme = r.string(end);
        break;
      case HTTP_ID:
        h.id = r.string(end);
        break;
      default:
        r.skip(t & 7, end);
    }
  }
  return h;
}

/** map<string, string> entry: a missing key or value is ''. */
function readMapEntry(r: WireReader, end: number, into: string[]): void {
  let key = '';
  let value = '';
  while (r.pos < end) {
    const t = r.tag(end);
    if (t === MAP_KEY) key = r.string(end);
    else if (t === MAP_VALUE) value = r.string(end);
    else r.skip(t & 7, end);
  }
  into.push(key, value);
}

function readHeaderMap(r: WireReader, end: number): string[] {
  const out: string[] = [];
  while (r.pos < end) {
    const t = r.tag(end);
    if (t === HEADER_MAP_HEADERS) readHeaderValue(r, r.lengthEnd(end), out);
    else r.skip(t & 7, end);
  }
  return out;
}

function readHeaderValue(r: WireReader, end: number, out: string[]): void {
  let key = '';
  let value = '';
  let rawStart = 0;
  let rawEnd = 0;
  while (r.pos < end) {
    const t = r.tag(end);
    if (t === HEADER_VALUE_KEY) key = r.string(end);
    else if (t === HEADER_VALUE_RAW) {
      rawEnd = r.lengthEnd(end);
      rawStart = r.pos;
      r.pos = rawEnd;
    } else if (t === HEADER_VALUE_VALUE) value = r.string(end);
    else r.skip(t & 7, end);
  }
  out.push(key, rawEnd > rawStart ? rawHeaderValue(r, rawStart, rawEnd) : value);
}

/**
 * raw_value is the header's octets. Valid UTF-8 is decoded as such, which is what
 * the `headers` map carries (Envoy sanitises those to UTF-8); anything else is
 * decoded as latin1 so every byte survives one-to-one instead of becoming U+FFFD.
 * A leading BOM is dropped, as check-adapter.ts's TextDecoder does.
 */
function rawHeaderValue(r: WireReader, start: number, end: number): string {
  const ascii = r.ascii(start, end);
  if (ascii !== undefined) return ascii;
  const buf = r.buf;
  if (!isUtf8(buf.subarray(start, end))) return buf.toString('latin1', start, end);
  if (end - start >= 3 && buf[start] === 0xef && buf[start + 1] === 0xbb && buf[start + 2] === 0xbf) start += 3;
  return buf.toString('utf8', start, end);
}

function toDomain(a: Attributes | undefined): AuthRequest {
  const http = a?.http;
  const headers = new Map<string, string[]>();
  if (http) collectHeaders(http, headers);
  const xRequestId = headers.get('x-request-id')?.find((v) => v !== '');
  return {
    method: http?.method ?? '',
    host: http?.host ?? '',
    path: http?.path ?? '',
    headers,
    contextExtensions: a ? stringMap(a.contextExtensions) : {},
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
  if (entries && entries.length > 0) {
    for (let i = 0; i < entries.length; i += 2) addHeader(out, entries[i], entries[i + 1]);
  } else if (http.headers && !collectMapFast(http.headers, out)) {
    out.clear();
    const map = stringMap(http.headers);
    for (const key of Object.keys(map)) addHeader(out, key, map[key]);
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
 * The `headers` map as Envoy sends it: unique lowercase names, none starting with a
 * digit. Then wire order is object key order and no key repeats, so the plain object
 * can be skipped; anything else returns false for stringMap to sort out.
 */
function collectMapFast(kv: string[], out: Map<string, string[]>): boolean {
  for (let i = 0; i < kv.length; i += 2) {
    const key = kv[i];
    if (key === '') continue;
    const c = key.charCodeAt(0);
    if (c >= 0x30 && c <= 0x39) return false;
    const name = key.toLowerCase();
    if (out.has(name)) return false;
    out.set(name, [kv[i + 1]]);
  }
  return true;
}

/**
 * Map entries as protobufjs leaves them in a plain object: a repeated key keeps its
 * first position and its last value, integer-like keys come first in ascending order,
 * and `__proto__` is an ordinary key (protobufjs defines it rather than assigning it).
 */
function stringMap(kv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < kv.length; i += 2) {
    if (kv[i] === '__proto__') Object.defineProperty(out, '__proto__', { value: kv[i + 1], writable: true, enumerable: true, configurable: true });
    else out[kv[i]] = kv[i + 1];
  }
  return out;
}
