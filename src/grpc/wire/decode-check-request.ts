/**
 * CheckRequest bytes -> AuthRequest without building the protobuf object tree, by the
 * protobuf encoding spec (protobuf.dev/programming-guides/encoding/#last-one-wins):
 * - an embedded message that occurs more than once is MERGED: its fields are read into
 *   the one accumulator, so for every scalar the last value on the wire wins, maps keep
 *   the last value per key and repeated fields (header_map entries) concatenate;
 * - a map is unordered: a `headers` name that arrives under several keys (X-A and x-a)
 *   lists its values in the code-unit order of those keys, not in wire order.
 * test/unit/wire-decode.test.ts compares it with @bufbuild/protobuf, which passes the
 * protobuf conformance suite. Every field is matched on its full tag, so a known field
 * number with another wire type is skipped like an unknown field instead of misread.
 */
import { isUtf8 } from 'node:buffer';
import type { AuthRequest, Peer } from '../../request.js';
import { LEN, WireReader } from './reader.js';
import { emptyPeer, toAuthRequest, type Attributes, type Http } from './to-auth-request.js';

const tag = (field: number, wireType: number) => (field << 3) | wireType;

const CHECK_REQUEST_ATTRIBUTES = tag(1, LEN);
const ATTRS_SOURCE = tag(1, LEN);
const ATTRS_DESTINATION = tag(2, LEN);
const ATTRS_REQUEST = tag(4, LEN);
const ATTRS_CONTEXT_EXTENSIONS = tag(10, LEN);
const PEER_ADDRESS = tag(1, LEN);
const PEER_PRINCIPAL = tag(4, LEN);
const PEER_CERTIFICATE = tag(5, LEN);
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

/** Throws ClaimcheckError('invalid_request_proto') for bytes that are not a CheckRequest. */
export function decodeCheckRequest(buf: Buffer): AuthRequest {
  const r = new WireReader(buf);
  const end = buf.length;
  let attrs: Attributes | undefined;
  while (r.pos < end) {
    const t = r.tag(end);
    if (t === CHECK_REQUEST_ATTRIBUTES) readAttributes(r, r.lengthEnd(end), (attrs ??= { source: emptyPeer(), destination: emptyPeer(), http: undefined, contextExtensions: [] }));
    else r.skip(t, end);
  }
  return toAuthRequest(attrs);
}

function readAttributes(r: WireReader, end: number, a: Attributes): void {
  while (r.pos < end) {
    const t = r.tag(end);
    if (t === ATTRS_REQUEST) a.http = readRequest(r, r.lengthEnd(end), a.http);
    else if (t === ATTRS_SOURCE) readPeer(r, r.lengthEnd(end), a.source);
    else if (t === ATTRS_DESTINATION) readPeer(r, r.lengthEnd(end), a.destination);
    else if (t === ATTRS_CONTEXT_EXTENSIONS) readMapEntry(r, r.lengthEnd(end), a.contextExtensions);
    else r.skip(t, end);
  }
}

function readPeer(r: WireReader, end: number, peer: Peer): void {
  while (r.pos < end) {
    const t = r.tag(end);
    if (t === PEER_PRINCIPAL) peer.principal = r.string(end);
    else if (t === PEER_CERTIFICATE) setCertificate(peer, r.string(end));
    else if (t === PEER_ADDRESS) readAddress(r, r.lengthEnd(end), peer);
    else r.skip(t, end);
  }
}

/** Envoy URL-encodes the PEM (AttributeContext.Peer.certificate); the last value on the wire wins, an empty one too. */
export function setCertificate(peer: Peer, urlEncoded: string): void {
  let pem: string | undefined;
  try {
    pem = urlEncoded === '' ? undefined : decodeURIComponent(urlEncoded);
  } catch {
    pem = undefined;
  }
  if (pem === undefined) delete peer.certificate;
  else peer.certificate = pem;
}

/** Address.socket_address.address; both levels merge like any embedded message. */
function readAddress(r: WireReader, end: number, peer: Peer): void {
  while (r.pos < end) {
    const t = r.tag(end);
    if (t !== ADDRESS_SOCKET_ADDRESS) {
      r.skip(t, end);
      continue;
    }
    const socketEnd = r.lengthEnd(end);
    while (r.pos < socketEnd) {
      const s = r.tag(socketEnd);
      if (s === SOCKET_ADDRESS_ADDRESS) peer.address = r.string(socketEnd);
      else r.skip(s, socketEnd);
    }
  }
}

/** AttributeContext.Request: only `http` is read, merged into what earlier occurrences gave. */
function readRequest(r: WireReader, end: number, http: Http | undefined): Http | undefined {
  while (r.pos < end) {
    const t = r.tag(end);
    if (t === REQUEST_HTTP) readHttp(r, r.lengthEnd(end), (http ??= { id: '', method: '', path: '', host: '', scheme: '', headers: [], headerMap: [] }));
    else r.skip(t, end);
  }
  return http;
}

function readHttp(r: WireReader, end: number, h: Http): void {
  while (r.pos < end) {
    const t = r.tag(end);
    switch (t) {
      case HTTP_HEADERS:
        readMapEntry(r, r.lengthEnd(end), h.headers);
        break;
      case HTTP_HEADER_MAP:
        readHeaderMap(r, r.lengthEnd(end), h.headerMap);
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
        r.skip(t, end);
    }
  }
}

/** map<string, string> entry: a missing key or value is ''. */
function readMapEntry(r: WireReader, end: number, into: string[]): void {
  let key = '';
  let value = '';
  while (r.pos < end) {
    const t = r.tag(end);
    if (t === MAP_KEY) key = r.string(end);
    else if (t === MAP_VALUE) value = r.string(end);
    else r.skip(t, end);
  }
  into.push(key, value);
}

function readHeaderMap(r: WireReader, end: number, out: string[]): void {
  while (r.pos < end) {
    const t = r.tag(end);
    if (t === HEADER_MAP_HEADERS) readHeaderValue(r, r.lengthEnd(end), out);
    else r.skip(t, end);
  }
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
    else r.skip(t, end);
  }
  // proto3: an empty raw_value is the default, so `value` is read instead
  out.push(key, rawEnd > rawStart ? rawHeaderValue(r, rawStart, rawEnd) : value);
}

/**
 * raw_value is the header's octets. Valid UTF-8 is decoded as such (a BOM included),
 * which is what the `headers` map carries (Envoy sanitises those to UTF-8); anything
 * else is decoded as latin1 so every byte survives one-to-one instead of becoming U+FFFD.
 */
function rawHeaderValue(r: WireReader, start: number, end: number): string {
  const ascii = r.ascii(start, end);
  if (ascii !== undefined) return ascii;
  const bytes = r.buf.subarray(start, end);
  return bytes.toString(isUtf8(bytes) ? 'utf8' : 'latin1');
}
