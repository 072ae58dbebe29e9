/**
 * The hand-written wire codec (src/grpc/wire/) against protobufjs as the oracle: the
 * codec must decode and encode exactly what the proto-loader path did before it.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mulberry32 } from '../helpers/prng.js';
import { isAbsolute, join } from 'node:path';
import protobuf from 'protobufjs';
import { LOADER_OPTIONS, PROTO_DIR, loadProtos } from '../../src/grpc/load-protos.js';
import { toAuthRequest, toCheckResponse } from '../../src/grpc/check-adapter.js';
import { decodeCheckRequest } from '../../src/grpc/wire/decode-check-request.js';
import { encodeCheckResponse } from '../../src/grpc/wire/encode-check-response.js';
import { ClaimcheckError } from '../../src/errors.js';
import type { AuthRequest } from '../../src/request.js';
import type { DeniedPlan, HeaderToSet, OkPlan, ResponsePlan } from '../../src/respond/plan.js';
import { buildCheckRequest, loadUpstreamProtos } from '../helpers/envoy-client.js';

const checkDef = loadProtos().authorization.Check as unknown as {
  requestSerialize: (o: unknown) => Buffer;
  requestDeserialize: (b: Buffer) => unknown;
  responseSerialize: (o: unknown) => Buffer;
  responseDeserialize: (b: Buffer) => any;
};

const oldDecode = (bytes: Buffer): AuthRequest => toAuthRequest(checkDef.requestDeserialize(bytes));
const oldEncode = (plan: ResponsePlan): Buffer => checkDef.responseSerialize(toCheckResponse(plan));

/** The same protos through protobufjs directly, to decode with proto3 defaults filled in. */
const root = new protobuf.Root();
root.resolvePath = (_origin, target) => (isAbsolute(target) ? target : join(PROTO_DIR, target));
root.loadSync('envoy/service/auth/v3/external_auth.proto', { keepCase: true });
root.resolveAll();
const CheckResponse = root.lookupType('envoy.service.auth.v3.CheckResponse');
const normalized = (bytes: Buffer) => CheckResponse.toObject(CheckResponse.decode(bytes), { ...LOADER_OPTIONS, defaults: true });

/** Maps compare as entries, in order. */
const view = (r: AuthRequest) => ({ ...r, headers: [...r.headers] });

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };
function attempt(fn: () => unknown): Outcome {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    return { ok: false, error };
  }
}
const oursOn = (bytes: Buffer): Outcome => attempt(() => view(decodeCheckRequest(bytes)));
const theirsOn = (bytes: Buffer): Outcome => attempt(() => view(oldDecode(bytes)));
const isRequestError = (e: unknown) => e instanceof ClaimcheckError && e.code === 'invalid_request_proto';

// ---- seeded randomness --------------------------------------------------------------

function rng(seed: number) {
  const next = mulberry32(seed);
  const int = (n: number) => Math.floor(next() * n);
  return {
    next,
    int,
    chance: (p: number) => next() < p,
    pick: <T>(xs: readonly T[]): T => xs[int(xs.length)],
    shuffle: <T>(xs: T[]): T[] => {
      for (let i = xs.length - 1; i > 0; i--) {
        const j = int(i + 1);
        [xs[i], xs[j]] = [xs[j], xs[i]];
      }
      return xs;
    },
  };
}
type Rng = ReturnType<typeof rng>;

const PIECES = ['a', 'Z', '-', '9', ' ', 'é', 'Ü', 'ß', 'İ', '漢', '字', '😀', '\u00a0', ',', '"', 'x', 'Q'];
function randomString(g: Rng, max = 12): string {
  if (g.chance(0.1)) return '';
  let s = '';
  const n = 1 + g.int(g.chance(0.05) ? 300 : max);
  for (let i = 0; i < n; i++) s += g.chance(0.7) ? String.fromCharCode(0x61 + g.int(26)) : g.pick(PIECES);
  return s;
}

// ---- wire building (independent of src/grpc/wire) -----------------------------------

function varint(v: bigint | number): Buffer {
  let x = BigInt(v);
  const out: number[] = [];
  while (x > 0x7fn) {
    out.push(Number(x & 0x7fn) | 0x80);
    x >>= 7n;
  }
  out.push(Number(x));
  return Buffer.from(out);
}
const key = (field: number, wireType: number) => varint(BigInt(field) * 8n + BigInt(wireType));
const lenField = (field: number, payload: Buffer) => Buffer.concat([key(field, 2), varint(payload.length), payload]);
const strField = (field: number, s: string | Buffer) => lenField(field, typeof s === 'string' ? Buffer.from(s, 'utf8') : s);
const varintField = (field: number, v: bigint | number) => Buffer.concat([key(field, 0), varint(v)]);
const mapEntry = (field: number, k: string, v: string) => lenField(field, Buffer.concat([strField(1, k), strField(2, v)]));

function randomBytes(g: Rng, n: number): Buffer {
  return Buffer.from(Array.from({ length: n }, () => g.int(256)));
}

/** 0..2 fields whose numbers the message does not define, of every skippable wire type. */
function unknownFields(g: Rng, known: number[], p = 0.3): Buffer[] {
  const out: Buffer[] = [];
  while (out.length < 2 && g.chance(p)) {
    let field = g.pick([3, 5, 7, 12, 14, 15, 16, 99, 1000, 19000, 536870911]);
    while (known.includes(field)) field++;
    const kind = g.pick([0, 1, 2, 5]);
    if (kind === 0) out.push(varintField(field, g.pick([0n, 1n, 300n, 2n ** 35n, 2n ** 63n, 2n ** 64n - 1n])));
    else if (kind === 1) out.push(Buffer.concat([key(field, 1), randomBytes(g, 8)]));
    else if (kind === 5) out.push(Buffer.concat([key(field, 5), randomBytes(g, 4)]));
    else out.push(lenField(field, randomBytes(g, g.int(20))));
  }
  return out;
}

/** Fields in random order; occurrences of the same field keep their relative order in meaning only by chance. */
const message = (g: Rng, parts: Buffer[]) => Buffer.concat(g.chance(0.5) ? g.shuffle(parts) : parts);

function times(g: Rng, pNone: number, pTwo: number): number {
  if (g.chance(pNone)) return 0;
  return g.chance(pTwo) ? 2 : 1;
}

const HEADER_NAMES = [
  'authorization', 'Authorization', 'AUTHORIZATION', 'x-request-id', 'X-Request-Id', ':authority', ':path', 'cookie',
  'content-type', 'x-forwarded-for', 'X-Multi', 'x-multi', '', '__proto__', '__PROTO__', 'constructor', 'toString',
  '0', '1', '10', '2', '01', '4294967294', '4294967295', '-1', 'Ä-Ö', 'İd',
];

function rawValue(g: Rng): Buffer {
  switch (g.int(9)) {
    case 0: return Buffer.alloc(0);
    case 1: return Buffer.from([0x66, 0xfc, 0x72]); // latin1 "für"
    case 2: return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(randomString(g), 'utf8')]); // BOM
    case 3: return Buffer.from(g.pick([[0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0xff]]));
    case 4: return randomBytes(g, g.int(12));
    default: return Buffer.from(randomString(g), 'utf8');
  }
}

function headerValueMessage(g: Rng): Buffer {
  const parts: Buffer[] = [];
  for (let i = times(g, 0.05, 0.1); i > 0; i--) parts.push(strField(1, g.pick(HEADER_NAMES)));
  for (let i = times(g, 0.5, 0.1); i > 0; i--) parts.push(strField(2, randomString(g)));
  for (let i = times(g, 0.4, 0.1); i > 0; i--) parts.push(lenField(3, rawValue(g)));
  return message(g, [...parts, ...unknownFields(g, [1, 2, 3], 0.1)]);
}

function headersMapEntry(g: Rng): Buffer {
  const parts: Buffer[] = [];
  if (!g.chance(0.05)) parts.push(strField(1, g.pick(HEADER_NAMES)));
  if (!g.chance(0.05)) parts.push(strField(2, g.chance(0.05) ? randomBytes(g, 3) : randomString(g)));
  return lenField(3, message(g, [...parts, ...unknownFields(g, [1, 2], 0.1)]));
}

function httpMessage(g: Rng): Buffer {
  const parts: Buffer[] = [];
  for (const field of [1, 2, 4, 5, 6]) for (let i = times(g, 0.3, 0.1); i > 0; i--) parts.push(strField(field, randomString(g, 20)));
  if (g.chance(0.6)) for (let i = g.int(12); i > 0; i--) parts.push(headersMapEntry(g));
  for (let i = times(g, 0.6, 0.2); i > 0; i--) {
    const entries: Buffer[] = [];
    for (let j = g.int(10); j > 0; j--) entries.push(lenField(1, headerValueMessage(g)));
    parts.push(lenField(13, message(g, [...entries, ...unknownFields(g, [1], 0.1)])));
  }
  // defined in our proto but not read by claimcheck
  if (g.chance(0.3)) parts.push(strField(7, 'q=1'), strField(8, 'frag'), varintField(9, g.int(1e6)), strField(10, 'HTTP/2'), strField(11, '{}'));
  return message(g, [...parts, ...unknownFields(g, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13])]);
}

function peerMessage(g: Rng): Buffer {
  const parts: Buffer[] = [];
  for (let i = times(g, 0.2, 0.15); i > 0; i--) {
    const address: Buffer[] = [];
    for (let j = times(g, 0.1, 0.15); j > 0; j--) {
      const socket: Buffer[] = [varintField(1, g.int(2))];
      for (let k = times(g, 0.1, 0.1); k > 0; k--) socket.push(strField(2, g.pick(['10.1.2.3', '::1', '', 'fe80::1%eth0'])));
      socket.push(g.chance(0.5) ? varintField(3, g.int(65536)) : strField(4, 'http'));
      address.push(lenField(1, message(g, [...socket, ...unknownFields(g, [1, 2, 3, 4])])));
    }
    if (g.chance(0.1)) address.push(lenField(2, strField(1, '/run/sock'))); // upstream's Pipe
    parts.push(lenField(1, message(g, [...address, ...unknownFields(g, [1])])));
  }
  for (let i = times(g, 0.3, 0.1); i > 0; i--) parts.push(strField(4, g.pick(['spiffe://cluster.local/ns/a/sa/b', '', randomString(g)])));
  if (g.chance(0.3)) parts.push(strField(2, 'frontend'));
  if (g.chance(0.2)) parts.push(mapEntry(3, 'app', 'web'), strField(5, 'pem')); // upstream labels, certificate
  return message(g, [...parts, ...unknownFields(g, [1, 2, 4])]);
}

const EXTENSION_KEYS = ['claimcheck.io/policy', 'k', 'K', '', '__proto__', '1', '0', 'toString', 'ünï'];

function attributesMessage(g: Rng): Buffer {
  const parts: Buffer[] = [];
  for (let i = times(g, 0.2, 0.1); i > 0; i--) parts.push(lenField(1, peerMessage(g)));
  for (let i = times(g, 0.2, 0.1); i > 0; i--) parts.push(lenField(2, peerMessage(g)));
  for (let i = times(g, 0.05, 0.15); i > 0; i--) {
    const request: Buffer[] = [];
    for (let j = times(g, 0.05, 0.15); j > 0; j--) request.push(lenField(2, httpMessage(g)));
    if (g.chance(0.2)) request.push(lenField(1, varintField(1, 1_700_000_000))); // upstream's time
    parts.push(lenField(4, message(g, [...request, ...unknownFields(g, [2])])));
  }
  for (let i = g.int(5); i > 0; i--) {
    const entry: Buffer[] = [];
    if (!g.chance(0.05)) entry.push(strField(1, g.pick(EXTENSION_KEYS)));
    if (!g.chance(0.05)) entry.push(strField(2, randomString(g)));
    parts.push(lenField(10, message(g, [...entry, ...unknownFields(g, [1, 2], 0.1)])));
  }
  if (g.chance(0.2)) parts.push(lenField(11, lenField(1, mapEntry(1, 'f', 'x')))); // upstream metadata_context
  return message(g, [...parts, ...unknownFields(g, [1, 2, 4, 10])]);
}

function randomCheckRequest(g: Rng): Buffer {
  if (g.chance(0.05)) {
    return checkDef.requestSerialize(
      buildCheckRequest({
        headers: { Authorization: 'Bearer x', 'x-request-id': g.pick(['', 'rid']) },
        headerMap: g.chance(0.5) ? [['Cookie', 'a=ü']] : undefined,
        contextExtensions: { 'claimcheck.io/policy': 'ns/p' },
        sourcePrincipal: 'spiffe://x',
      }),
    );
  }
  const parts: Buffer[] = [];
  for (let i = times(g, 0.03, 0.1); i > 0; i--) parts.push(lenField(1, attributesMessage(g)));
  return message(g, [...parts, ...unknownFields(g, [1], 0.2)]);
}

const envoyShaped = (): Buffer =>
  checkDef.requestSerialize(
    buildCheckRequest({
      host: 'pay.example.com',
      path: '/v1/payments?x=1',
      method: 'POST',
      headers: { authorization: 'Bearer eyJhbGciOi.payload.sig', 'user-agent': 'curl/8', accept: '*/*' },
      requestId: 'f81d4fae-7dec-11d0-a765-00a0c91e6bf6',
      contextExtensions: { 'claimcheck.io/policy': 'payments/payments' },
      sourcePrincipal: 'spiffe://cluster.local/ns/web/sa/frontend',
    }),
  );

// ---- requests -----------------------------------------------------------------------

describe('decodeCheckRequest', () => {
  test('decodes 3,000 seeded random CheckRequests exactly as protobufjs + toAuthRequest', () => {
    const g = rng(0xc0ffee);
    const seen = { headerMapWon: 0, headersMap: 0, nonAscii: 0, latin1: 0, protoKey: 0, duplicateNames: 0, extensions: 0, peers: 0 };
    for (let i = 0; i < 3000; i++) {
      const bytes = randomCheckRequest(g);
      const theirs = oldDecode(bytes);
      assert.deepStrictEqual(view(decodeCheckRequest(bytes)), view(theirs), `case ${i}: ${bytes.toString('hex')}`);
      const values = [...theirs.headers.values()].flat();
      if (values.some((v) => /[^\x00-\x7f]/.test(v))) seen.nonAscii++;
      if (values.some((v) => v.includes('\u00fc'))) seen.latin1++;
      if (theirs.headers.has('__proto__')) seen.protoKey++;
      if (values.length > theirs.headers.size) seen.duplicateNames++;
      if (Object.keys(theirs.contextExtensions).length > 0) seen.extensions++;
      if (theirs.source.address !== '' && theirs.destination.principal !== '') seen.peers++;
    }
    // the generator must reach the cases the comparison is for
    for (const [name, count] of Object.entries(seen)) if (name !== 'headerMapWon' && name !== 'headersMap') assert.ok(count >= 50, `${name}: ${count}`);
  });

  test('takes header_map over headers only when header_map has entries', () => {
    const http = (...parts: Buffer[]) => lenField(1, lenField(4, lenField(2, Buffer.concat(parts))));
    const plain = mapEntry(3, 'X-A', 'map');
    const one = lenField(13, lenField(1, Buffer.concat([strField(1, 'x-a'), lenField(3, Buffer.from('raw'))])));
    const cases: [Buffer, [string, string[]][]][] = [
      [http(plain), [['x-a', ['map']]]],
      [http(plain, one), [['x-a', ['raw']]]],
      [http(plain, lenField(13, Buffer.alloc(0))), [['x-a', ['map']]]],
      // a second header_map replaces the first, as in protobufjs (not merged)
      [http(one, lenField(13, Buffer.alloc(0)), plain), [['x-a', ['map']]]],
      // an entry with an empty key still makes header_map win, and is then skipped
      [http(plain, lenField(13, lenField(1, strField(2, 'v')))), []],
    ];
    for (const [bytes, headers] of cases) {
      assert.deepStrictEqual([...decodeCheckRequest(bytes).headers], headers);
      assert.deepStrictEqual([...oldDecode(bytes).headers], headers);
    }
  });

  test('replaces a repeated embedded message instead of merging it, like protobufjs', () => {
    const attrs = (method: string, ext: string) =>
      lenField(1, Buffer.concat([lenField(4, lenField(2, strField(2, method))), mapEntry(10, ext, 'v')]));
    const bytes = Buffer.concat([attrs('GET', 'first'), attrs('POST', 'second')]);
    const req = decodeCheckRequest(bytes);
    assert.equal(req.method, 'POST');
    assert.deepStrictEqual(req.contextExtensions, { second: 'v' });
    assert.deepStrictEqual(view(req), view(oldDecode(bytes)));
  });

  test('uses x-request-id when it has a non-empty value and the stream id otherwise', () => {
    const http = (...parts: Buffer[]) => lenField(1, lenField(4, lenField(2, Buffer.concat([strField(1, '777'), ...parts]))));
    const headerMap = (...values: string[]) => lenField(13, Buffer.concat(values.map((v) => lenField(1, Buffer.concat([strField(1, 'X-Request-ID'), strField(2, v)])))));
    assert.equal(decodeCheckRequest(http(headerMap('', 'rid-2'))).requestId, 'rid-2');
    assert.equal(decodeCheckRequest(http(headerMap(''))).requestId, '777');
    assert.equal(decodeCheckRequest(http(mapEntry(3, 'x-request-id', 'rid-1'))).requestId, 'rid-1');
    assert.equal(decodeCheckRequest(http()).requestId, '777');
  });

  test('decodes a request over 64 KiB, with a body, exactly as protobufjs + toAuthRequest', () => {
    const g = rng(64);
    for (let i = 0; i < 50; i++) {
      const long = `${'ü'.repeat(40)}${'a'.repeat(100)}`;
      const lastHeaderMap = lenField(13, lenField(1, Buffer.concat([strField(1, 'X-Long'), strField(3, long)])));
      const http = Buffer.concat([httpMessage(g), strField(11, 'b'.repeat(70_000)), mapEntry(3, 'x-long', long), lastHeaderMap]);
      // the last attributes win, and in them the last request
      const bytes = Buffer.concat([randomCheckRequest(g), lenField(1, Buffer.concat([attributesMessage(g), lenField(4, lenField(2, http))]))]);
      assert.ok(bytes.length > 64 * 1024);
      const req = decodeCheckRequest(bytes);
      assert.deepStrictEqual(req.headers.get('x-long'), [long]);
      assert.deepStrictEqual(view(req), view(oldDecode(bytes)), `case ${i}`);
    }
  });

  test('decodes strings of every length around the 64-byte ASCII scan with non-ASCII at the start, middle or end', () => {
    for (let n = 1; n < 80; n++) {
      for (const at of [0, n >> 1, n - 1]) {
        const chars = Array.from({ length: n }, () => 'a');
        chars[at] = 'é';
        const value = chars.join('');
        const entry = lenField(1, Buffer.concat([strField(1, 'x'), lenField(3, Buffer.from(value, 'utf8')), strField(2, value)]));
        const bytes = lenField(1, lenField(4, lenField(2, Buffer.concat([strField(2, value), mapEntry(3, 'y', value), lenField(13, entry)]))));
        const req = decodeCheckRequest(bytes);
        assert.equal(req.method, value);
        assert.deepStrictEqual(req.headers.get('x'), [value]);
        assert.deepStrictEqual(view(req), view(oldDecode(bytes)));
      }
      // a lone byte 0xff: U+FFFD in a string field, latin1 in raw_value
      const invalid = Buffer.concat([Buffer.alloc(n - 1, 'a'), Buffer.from([0xff])]);
      const entry = lenField(1, Buffer.concat([strField(1, 'x'), lenField(3, invalid)]));
      const bytes = lenField(1, lenField(4, lenField(2, Buffer.concat([strField(2, invalid), lenField(13, entry)]))));
      const req = decodeCheckRequest(bytes);
      assert.equal(req.method, `${'a'.repeat(n - 1)}\ufffd`);
      assert.deepStrictEqual(req.headers.get('x'), [`${'a'.repeat(n - 1)}\u00ff`]);
      assert.deepStrictEqual(view(req), view(oldDecode(bytes)));
    }
  });

  test('decodes an Envoy-shaped request built from the test client', () => {
    const req = decodeCheckRequest(envoyShaped());
    assert.equal(req.host, 'pay.example.com');
    assert.equal(req.requestId, 'f81d4fae-7dec-11d0-a765-00a0c91e6bf6');
    assert.deepStrictEqual(req.headers.get(':authority'), ['pay.example.com']);
    assert.deepStrictEqual(req.source, { principal: 'spiffe://cluster.local/ns/web/sa/frontend', address: '10.1.2.3' });
    assert.deepStrictEqual(view(req), view(oldDecode(envoyShaped())));
  });
});

/**
 * Whether bytes are a CheckRequest both decoders must read alike: every known field with
 * its declared wire type, nothing running past its message, no groups, varints protobufjs
 * reads as 32 bits (tags, lengths, uint32) in at most 5 bytes and below 2^32.
 */
type Kind = 'string' | 'uint32' | 'int64' | { [field: number]: Kind };
const SOCKET_ADDRESS: Kind = { 1: 'uint32', 2: 'string', 3: 'uint32', 4: 'string' };
const PEER: Kind = { 1: { 1: SOCKET_ADDRESS }, 2: 'string', 4: 'string' };
const STRING_MAP_ENTRY: Kind = { 1: 'string', 2: 'string' };
const HEADER_MAP: Kind = { 1: { 1: 'string', 2: 'string', 3: 'string' } };
const HTTP: Kind = { 1: 'string', 2: 'string', 3: STRING_MAP_ENTRY, 4: 'string', 5: 'string', 6: 'string', 7: 'string', 8: 'string', 9: 'int64', 10: 'string', 11: 'string', 13: HEADER_MAP };
const CHECK_REQUEST: Kind = { 1: { 1: PEER, 2: PEER, 4: { 2: HTTP }, 10: STRING_MAP_ENTRY } };

function wellFormed(buf: Buffer, start = 0, end = buf.length, schema: Kind = CHECK_REQUEST): boolean {
  let pos = start;
  const readVarint = (maxBytes: number): number | undefined => {
    let value = 0;
    for (let i = 0; i < maxBytes && pos < end; i++) {
      const b = buf[pos++];
      value += (b & 0x7f) * 2 ** (7 * i);
      if (b < 0x80) return value;
    }
    return undefined;
  };
  const readLength = (): number | undefined => {
    const len = readVarint(5);
    return len === undefined || len > end - pos ? undefined : len;
  };
  while (pos < end) {
    const tag = readVarint(5);
    if (tag === undefined || tag >= 2 ** 32) return false;
    const wireType = tag % 8;
    const kind = typeof schema === 'object' ? schema[Math.floor(tag / 8)] : undefined;
    if (kind === undefined) {
      if (wireType === 0 && readVarint(10) === undefined) return false;
      else if (wireType === 1 || wireType === 5) {
        if (end - pos < (wireType === 1 ? 8 : 4)) return false;
        pos += wireType === 1 ? 8 : 4;
      } else if (wireType === 2) {
        const len = readLength();
        if (len === undefined) return false;
        pos += len;
      } else if (wireType !== 0) return false;
    } else if (kind === 'uint32' || kind === 'int64') {
      const from = pos;
      if (wireType !== 0 || readVarint(10) === undefined) return false;
      if (kind === 'uint32' && pos - from > 5 && pos - from < 10) return false;
    } else {
      const len = wireType === 2 ? readLength() : undefined;
      if (len === undefined) return false;
      if (typeof kind === 'object' && !wellFormed(buf, pos, pos + len, kind)) return false;
      pos += len;
    }
  }
  return true;
}

describe('decodeCheckRequest on hostile bytes', () => {
  const samples = (): Buffer[] => {
    const g = rng(7);
    return [envoyShaped(), ...Array.from({ length: 40 }, () => randomCheckRequest(g))];
  };

  test('rejects or accepts every truncation exactly as protobufjs does, with a ClaimcheckError', { timeout: 60_000 }, () => {
    let rejected = 0;
    for (const bytes of samples()) {
      for (let n = 0; n < bytes.length; n++) {
        const cut = bytes.subarray(0, n);
        const ours = oursOn(cut);
        const theirs = theirsOn(cut);
        if (!ours.ok) assert.ok(isRequestError(ours.error), `truncation ${n}: ${String(ours.error)}`);
        assert.equal(ours.ok, theirs.ok, `truncation ${n} of ${bytes.toString('hex')}`);
        if (ours.ok && theirs.ok) assert.deepStrictEqual(ours.value, theirs.value);
        else rejected++;
      }
    }
    assert.ok(rejected > 1000, `${rejected} truncations rejected`);
  });

  test('decodes every well-formed mutant as protobufjs does and rejects the rest only with a ClaimcheckError', { timeout: 60_000 }, (t) => {
    const g = rng(99);
    const base = samples();
    const tally = { wellFormed: 0, bothReject: 0, onlyOursRejects: 0, onlyTheirsRejects: 0, bothAcceptDiffer: 0, bothAcceptSame: 0 };
    for (let i = 0; i < 20_000; i++) {
      let bytes: Buffer;
      if (i % 4 === 3) bytes = randomBytes(g, g.int(64));
      else {
        bytes = Buffer.from(g.pick(base));
        for (let k = 1 + g.int(3); k > 0 && bytes.length > 0; k--) bytes[g.int(bytes.length)] = g.chance(0.5) ? g.int(256) : bytes[g.int(bytes.length)] ^ (1 << g.int(8));
      }
      const ours = oursOn(bytes);
      const theirs = theirsOn(bytes);
      if (!ours.ok) assert.ok(isRequestError(ours.error), `${bytes.toString('hex')}: ${String(ours.error)}`);
      if (wellFormed(bytes)) {
        tally.wellFormed++;
        assert.ok(ours.ok && theirs.ok, bytes.toString('hex'));
        assert.deepStrictEqual(ours.value, theirs.value, bytes.toString('hex'));
      } else if (ours.ok && theirs.ok) {
        tally[attempt(() => assert.deepStrictEqual(ours.value, theirs.value)).ok ? 'bothAcceptSame' : 'bothAcceptDiffer']++;
      } else if (!ours.ok && !theirs.ok) tally.bothReject++;
      else tally[ours.ok ? 'onlyTheirsRejects' : 'onlyOursRejects']++;
    }
    // With these seeds and protobufjs 7.6.6: ~8,750 well-formed; of the malformed ~9,500 are
    // rejected by both, ~1,650 only by us, ~25 only by protobufjs, ~50 accepted by both with
    // the same result and ~20 with different results.
    // They differ where protobufjs is laxer or misreads (pinned down one by one below): it
    // reads a known field number whatever its wire type, clamps a string that runs past its
    // message, skips groups and over-long varints, and truncates tags and lengths to 32 bits.
    t.diagnostic(JSON.stringify(tally));
    assert.ok(tally.wellFormed > 5000 && tally.bothReject > 5000, JSON.stringify(tally));
  });

  const attributes = (payload: Buffer) => lenField(1, payload);
  const httpWith = (payload: Buffer) => attributes(lenField(4, lenField(2, payload)));
  const good = httpWith(strField(2, 'GET'));
  const elevenByteVarint = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
  const tenByteVarint = varint(2n ** 64n - 1n);
  // [name, bytes, ours (true = returns, else rejects), protobufjs (same)]
  const hostile: [string, Buffer, boolean, boolean][] = [
    ['a length of 2^31 on attributes', Buffer.concat([key(1, 2), varint(2n ** 31n), good]), false, false],
    // protobufjs keeps the low 32 bits of a length: 2^32 reads as 0
    ['a length of 2^32 on attributes', Buffer.concat([key(1, 2), varint(2n ** 32n), good]), false, true],
    ['a length of 2^64-1 on attributes', Buffer.concat([key(1, 2), tenByteVarint, good]), false, false],
    ['an unknown field with a length of 2^62', Buffer.concat([good, key(9, 2), varint(2n ** 62n)]), false, false],
    // protobufjs clamps a string at the end of its message to what is there
    ['a method string longer than its message', httpWith(Buffer.concat([key(2, 2), varint(200), Buffer.from('GET')])), false, true],
    // protobufjs skips groups; proto3 and Envoy's protos have none
    ['a group in an unknown field', Buffer.concat([good, key(9, 3), varintField(1, 5), key(9, 4)]), false, true],
    ['a group inside http', httpWith(Buffer.concat([key(20, 3), key(20, 4), strField(2, 'GET')])), false, true],
    ['a lone end-group tag', Buffer.concat([good, key(9, 4)]), false, false],
    ['wire type 6', Buffer.concat([good, key(9, 6), Buffer.alloc(8)]), false, false],
    ['wire type 7', Buffer.concat([good, key(9, 7), Buffer.alloc(8)]), false, false],
    // protobufjs skips a varint of any length
    ['an 11-byte varint in an unknown field', Buffer.concat([good, key(9, 0), elevenByteVarint]), false, true],
    ['an 11-byte tag', Buffer.concat([good, elevenByteVarint]), false, false],
    ['a 10-byte varint in an unknown field', Buffer.concat([good, key(9, 0), tenByteVarint]), true, true],
    ['a tag above 2^32', Buffer.concat([good, varint(2n ** 33n + 2n), varint(0)]), false, true],
    ['field number 0', Buffer.concat([good, varintField(0, 1)]), true, true],
    ['a truncated fixed64', Buffer.concat([good, key(9, 1), Buffer.alloc(7)]), false, false],
    ['a truncated fixed32', Buffer.concat([good, key(9, 5), Buffer.alloc(3)]), false, false],
    ['an empty buffer', Buffer.alloc(0), true, true],
  ];
  for (const [name, bytes, oursAccepts, theirsAccept] of hostile) {
    test(`${oursAccepts ? 'accepts' : 'rejects'} ${name}${oursAccepts === theirsAccept ? ' as protobufjs does' : ' where protobufjs accepts'}`, () => {
      const ours = oursOn(bytes);
      if (!ours.ok) assert.ok(isRequestError(ours.error), String(ours.error));
      assert.equal(ours.ok, oursAccepts);
      const theirs = theirsOn(bytes);
      assert.equal(theirs.ok, theirsAccept);
      if (ours.ok && theirs.ok) assert.deepStrictEqual(ours.value, theirs.value);
    });
  }

  test('skips a known field number sent with another wire type instead of misreading it', () => {
    // method (2) as a varint, then host (5) as a fixed32: protobufjs would read the varint as a string length
    const bytes = httpWith(Buffer.concat([varintField(2, 3), key(5, 5), Buffer.from('abcd'), strField(4, '/p')]));
    const req = decodeCheckRequest(bytes);
    assert.equal(req.method, '');
    assert.equal(req.host, '');
    assert.equal(req.path, '/p');
  });

  test('reads a non-minimal varint length, which protobufjs misreads', () => {
    const payload = lenField(4, lenField(2, strField(2, 'GET')));
    const sixBytes = Buffer.from([0x80 | payload.length, 0x80, 0x80, 0x80, 0x80, 0x00]);
    const bytes = Buffer.concat([key(1, 2), sixBytes, payload]);
    assert.equal(decodeCheckRequest(bytes).method, 'GET');
    assert.notEqual(theirsOn(bytes).ok && (theirsOn(bytes) as { value: AuthRequest }).value.method, 'GET');
  });
});

// ---- responses ----------------------------------------------------------------------

function randomHeaders(g: Rng, max: number): HeaderToSet[] {
  return Array.from({ length: g.int(max + 1) }, () => ({
    name: g.pick(['x-user-id', 'x-tenant', 'X-Roles', 'content-type', '', randomString(g)]),
    value: g.chance(0.03) ? 'v'.repeat(g.pick([130, 20_000])) : randomString(g, 30),
  }));
}

class Stamp {
  constructor(readonly v: unknown) {}
  toJSON() {
    return this.v;
  }
}

function randomJson(g: Rng, depth: number): unknown {
  const leaf = () =>
    g.pick<() => unknown>([
      () => null, () => undefined, () => NaN, () => Infinity, () => -Infinity, () => -0, () => 0, () => 1.5, () => -(2 ** 60),
      () => Number.MAX_VALUE, () => 10n ** 20n, () => 7n, () => true, () => false, () => '', () => randomString(g, 40),
      () => new Date(g.int(2e12)), () => new Stamp(g.chance(0.5) ? undefined : randomString(g)), () => () => 1, () => Symbol('s'),
    ])();
  if (depth > 5 || g.chance(0.5)) return leaf();
  if (g.chance(0.4)) return Array.from({ length: g.int(5) }, () => randomJson(g, depth + 1));
  return randomObject(g, depth + 1);
}

function randomObject(g: Rng, depth: number): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (let i = g.int(6); i > 0; i--) o[g.pick(['sub', 'iss', 'scopes', '', '1', '0', 'ünï', randomString(g)])] = randomJson(g, depth);
  return o;
}

function randomOkPlan(g: Rng): OkPlan {
  const plan: OkPlan = {
    kind: 'ok',
    headersToSet: randomHeaders(g, 20),
    headersToRemove: Array.from({ length: g.int(5) }, () => g.pick(['x-roles', 'authorization', '', randomString(g)])),
  };
  if (g.chance(0.5)) plan.queryParametersToRemove = Array.from({ length: g.int(3) }, () => g.pick(['access_token', '', 'ü']));
  if (g.chance(0.8)) plan.dynamicMetadata = g.chance(0.1) ? {} : randomObject(g, 0);
  return plan;
}

function randomDeniedPlan(g: Rng): DeniedPlan {
  return {
    kind: 'denied',
    grpcCode: 1 + g.int(16),
    httpStatus: 400 + g.int(200),
    headers: randomHeaders(g, 4),
    body: g.chance(0.2) ? '' : g.chance(0.05) ? 'b'.repeat(70_000) : JSON.stringify({ error: randomString(g) }),
  };
}

function assertSameResponse(plan: ResponsePlan, label: string) {
  const ours = attempt(() => normalized(encodeCheckResponse(plan)));
  const theirs = attempt(() => normalized(oldEncode(plan)));
  if (ours.ok && theirs.ok) assert.deepStrictEqual(ours.value, theirs.value, label);
  else if (!ours.ok && !theirs.ok) {
    assert.ok(ours.error instanceof ClaimcheckError && theirs.error instanceof ClaimcheckError, label);
    assert.equal(ours.error.code, theirs.error.code, label);
  } else assert.fail(`${label}: ours ${ours.ok ? 'encoded' : String(ours.error)}, old ${theirs.ok ? 'encoded' : String(theirs.error)}`);
}

describe('encodeCheckResponse', () => {
  test('encodes 2,000 seeded random ok plans to what toCheckResponse + responseSerialize decode to', () => {
    const g = rng(0xbeef);
    for (let i = 0; i < 2000; i++) assertSameResponse(randomOkPlan(g), `ok plan ${i}`);
  });

  test('encodes 1,000 seeded random denied plans to what toCheckResponse + responseSerialize decode to', () => {
    const g = rng(0xdead);
    for (let i = 0; i < 1000; i++) assertSameResponse(randomDeniedPlan(g), `denied plan ${i}`);
  });

  test('writes length prefixes of one, two and three bytes around 128 and 16,384', () => {
    const sizes = [...Array.from({ length: 40 }, (_, i) => 100 + i), ...Array.from({ length: 40 }, (_, i) => 16_340 + i), 2_100_000];
    for (const n of sizes) {
      const value = 'v'.repeat(n);
      assertSameResponse({ kind: 'ok', headersToSet: [{ name: 'x-big', value }], headersToRemove: [], dynamicMetadata: { s: value } }, `ok ${n}`);
      assertSameResponse({ kind: 'denied', grpcCode: 7, httpStatus: 403, headers: [{ name: 'x-big', value }], body: value }, `denied ${n}`);
    }
  });

  const ok: OkPlan = { kind: 'ok', headersToSet: [], headersToRemove: [] };
  const denied: DeniedPlan = { kind: 'denied', grpcCode: 7, httpStatus: 403, headers: [], body: '' };
  const deep = (n: number, leaf: unknown, wrap: (x: unknown) => unknown) => {
    let v = leaf;
    for (let i = 0; i < n; i++) v = wrap(v);
    return v;
  };
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  const invalid: [string, ResponsePlan][] = [
    ['gRPC code 0', { ...denied, grpcCode: 0 }],
    ['gRPC code 17', { ...denied, grpcCode: 17 }],
    ['a fractional gRPC code', { ...denied, grpcCode: 7.5 }],
    ['a NaN gRPC code', { ...denied, grpcCode: NaN }],
    ['HTTP status 200', { ...denied, httpStatus: 200 }],
    ['HTTP status 600', { ...denied, httpStatus: 600 }],
    ['HTTP status 399', { ...denied, httpStatus: 399 }],
    ['an unknown kind', { kind: 'maybe' } as never],
    ['cyclic metadata', { ...ok, dynamicMetadata: cyclic }],
    ['metadata 40 objects deep', { ...ok, dynamicMetadata: { a: deep(40, 1, (x) => ({ a: x })) } }],
  ];
  for (const [name, plan] of invalid) {
    test(`throws the same ClaimcheckError as toCheckResponse for ${name}`, () => {
      assert.throws(() => encodeCheckResponse(plan), ClaimcheckError);
      assertSameResponse(plan, name);
    });
  }

  test('applies the metadata depth limit at the same depth as toStruct, for objects, arrays and holes', () => {
    let thrown = 0;
    for (let n = 25; n < 40; n++) {
      for (const leaf of [1, undefined, [undefined], { u: undefined }]) {
        for (const wrap of [(x: unknown) => ({ k: x }), (x: unknown) => [x], (x: unknown) => ({ l: [x] })]) {
          const plan: OkPlan = { ...ok, dynamicMetadata: { root: deep(n, leaf, wrap) } };
          assertSameResponse(plan, `depth ${n}`);
          if (!attempt(() => encodeCheckResponse(plan)).ok) thrown++;
        }
      }
    }
    assert.ok(thrown > 0 && thrown < 15 * 12, `${thrown} plans too deep`);
  });

  test('drops a `__proto__` metadata key like toStruct, and still converts its value', () => {
    const plan: OkPlan = { ...ok, dynamicMetadata: JSON.parse('{"__proto__": {"x": 1}, "a": "b"}') };
    assertSameResponse(plan, '__proto__');
    assert.deepStrictEqual(Object.keys(checkDef.responseDeserialize(encodeCheckResponse(plan)).dynamic_metadata.fields), ['a']);
    const tooDeep: OkPlan = { ...ok, dynamicMetadata: { ['__proto__']: undefined, ...JSON.parse(`{"__proto__": ${'['.repeat(40)}${']'.repeat(40)}}`) } };
    assert.throws(() => encodeCheckResponse(tooDeep), (e: unknown) => e instanceof ClaimcheckError && e.code === 'struct_too_deep');
  });

  // Kept differences, both on values claimcheck's own plans do not produce.
  test('encodes a lone surrogate as U+FFFD, where protobufjs wrote invalid UTF-8 for short strings', () => {
    const plan: OkPlan = { ...ok, dynamicMetadata: { sub: 'a\ud800b' } };
    const bytes = encodeCheckResponse(plan);
    assert.ok(bytes.includes(Buffer.from('a\ufffdb', 'utf8')));
    assert.equal(checkDef.responseDeserialize(bytes).dynamic_metadata.fields.sub.stringValue, 'a\ufffdb');
    // protobufjs: CESU-8 bytes ED A0 80, which Envoy's proto3 parser refuses as a string
    assert.ok(oldEncode(plan).includes(Buffer.from([0x61, 0xed, 0xa0, 0x80, 0x62])));
  });

  test('encodes a hole in a metadata array as null, where protobufjs threw a TypeError', () => {
    const plan: OkPlan = { ...ok, dynamicMetadata: { l: [1, , 3] } };
    assert.throws(() => oldEncode(plan), TypeError);
    const values = checkDef.responseDeserialize(encodeCheckResponse(plan)).dynamic_metadata.fields.l.listValue.values;
    assert.deepStrictEqual(values[1], { nullValue: 'NULL_VALUE', kind: 'nullValue' });
  });
});

describe('CheckResponse presence fields for Envoy', () => {
  const upstream = loadUpstreamProtos()['envoy.service.auth.v3.CheckResponse'] as unknown as { deserialize: (b: Buffer) => any };
  const headers = [
    { name: 'x-user-id', value: 'u1' },
    { name: 'x-tenant', value: 'acme' },
    { name: 'x-empty', value: '' },
  ];
  // HeaderValueOption tail: append (2) = BoolValue{value (1) = false}, append_action (3) = 2
  const overwriteTail = Buffer.from([0x12, 0x02, 0x08, 0x00, 0x18, 0x02]);
  const count = (bytes: Buffer, needle: Buffer) => {
    let n = 0;
    for (let i = bytes.indexOf(needle); i >= 0; i = bytes.indexOf(needle, i + 1)) n++;
    return n;
  };

  test('an ok response has a status and, on every header, `append` BoolValue{value: false} and append_action OVERWRITE_IF_EXISTS_OR_ADD', () => {
    const bytes = encodeCheckResponse({ kind: 'ok', headersToSet: headers, headersToRemove: ['x-roles'] });
    assert.equal(count(bytes, overwriteTail), headers.length);
    const got = upstream.deserialize(bytes);
    assert.deepStrictEqual(got.status, {});
    assert.equal(got.http_response, 'ok_response');
    assert.equal(got.ok_response.headers.length, headers.length);
    for (const h of got.ok_response.headers) {
      assert.deepStrictEqual(h.append, { value: false });
      assert.equal(h.append_action, 'OVERWRITE_IF_EXISTS_OR_ADD');
    }
  });

  test('an ok response without headers still carries status and an empty ok_response', () => {
    const got = upstream.deserialize(encodeCheckResponse({ kind: 'ok', headersToSet: [], headersToRemove: [] }));
    assert.deepStrictEqual(got.status, {});
    assert.equal(got.http_response, 'ok_response');
  });

  test('a denied response has its status code, HTTP status and overwrite semantics on every header', () => {
    const bytes = encodeCheckResponse({ kind: 'denied', grpcCode: 16, httpStatus: 401, headers, body: '' });
    assert.equal(count(bytes, overwriteTail), headers.length);
    const got = upstream.deserialize(bytes);
    assert.deepStrictEqual(got.status, { code: 16 });
    assert.equal(got.http_response, 'denied_response');
    assert.deepStrictEqual(got.denied_response.status, { code: 'Unauthorized' });
    for (const h of got.denied_response.headers) {
      assert.deepStrictEqual(h.append, { value: false });
      assert.equal(h.append_action, 'OVERWRITE_IF_EXISTS_OR_ADD');
    }
  });
});
