/**
 * decodeCheckRequest (src/grpc/wire/) against the protobuf reference (test/oracle/): seeded
 * random CheckRequests must decode to the same domain request, and the spec's rules for a
 * field that occurs more than once are pinned one by one.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCheckRequest } from '../../src/grpc/wire/decode-check-request.js';
import { ClaimcheckError } from '../../src/errors.js';
import type { AuthRequest } from '../../src/request.js';
import { comparable, referenceDecodeRequest } from '../oracle/reference-codec.js';
import { attributesMessage, envoyShaped, httpMessage, randomCheckRequest } from '../helpers/random-check-request.js';
import { httpField, lenField, mapEntry, rng, strField } from '../helpers/wire-build.js';

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };
function attempt(fn: () => AuthRequest): Outcome {
  try {
    return { ok: true, value: comparable(fn()) };
  } catch (error) {
    return { ok: false, error };
  }
}
const ours = (bytes: Buffer) => attempt(() => decodeCheckRequest(bytes));
const reference = (bytes: Buffer) => attempt(() => referenceDecodeRequest(bytes));

/** Both accept with the same request, or both refuse (ours with a ClaimcheckError). */
function assertSame(bytes: Buffer, label: string): Outcome {
  const a = ours(bytes);
  const b = reference(bytes);
  if (!a.ok) assert.ok(a.error instanceof ClaimcheckError && a.error.code === 'invalid_request_proto', `${label}: ${String(a.error)}`);
  assert.equal(a.ok, b.ok, `${label}: ours ${a.ok ? 'accepts' : String(a.error)}, reference ${b.ok ? 'accepts' : String(b.error)}; ${bytes.toString('hex')}`);
  if (a.ok && b.ok) assert.deepStrictEqual(a.value, b.value, `${label}: ${bytes.toString('hex')}`);
  return a;
}

describe('decodeCheckRequest', () => {
  test('decodes 3,000 seeded random CheckRequests exactly as the protobuf reference', () => {
    const g = rng(0xc0ffee);
    const seen = { refused: 0, nonAscii: 0, latin1: 0, protoKey: 0, duplicateNames: 0, extensions: 0, peers: 0, certificates: 0 };
    for (let i = 0; i < 3000; i++) {
      const bytes = randomCheckRequest(g);
      const out = assertSame(bytes, `case ${i}`);
      if (!out.ok) {
        seen.refused++;
        continue;
      }
      const req = decodeCheckRequest(bytes);
      const values = [...req.headers.values()].flat();
      if (values.some((v) => /[^\x00-\x7f]/.test(v))) seen.nonAscii++;
      if (values.some((v) => v.includes('\u00fc'))) seen.latin1++;
      if (req.headers.has('__proto__')) seen.protoKey++;
      if (values.length > req.headers.size) seen.duplicateNames++;
      if (Object.keys(req.contextExtensions).length > 0) seen.extensions++;
      if (req.source.address !== '' && req.destination.principal !== '') seen.peers++;
      if (req.source.certificate !== undefined) seen.certificates++;
    }
    // the generator must reach the cases the comparison is for
    for (const [name, count] of Object.entries(seen)) assert.ok(count >= 50, `${name}: ${count}`);
  });

  test('takes header_map over headers only when header_map has entries', () => {
    const plain = mapEntry(3, 'X-A', 'map');
    const one = lenField(13, lenField(1, Buffer.concat([strField(1, 'x-a'), lenField(3, Buffer.from('raw'))])));
    const cases: [Buffer, [string, string[]][]][] = [
      [httpField(plain), [['x-a', ['map']]]],
      [httpField(plain, one), [['x-a', ['raw']]]],
      [httpField(plain, lenField(13, Buffer.alloc(0))), [['x-a', ['map']]]],
      // an entry with an empty key still makes header_map win, and is then skipped
      [httpField(plain, lenField(13, lenField(1, strField(2, 'v')))), []],
    ];
    for (const [bytes, headers] of cases) {
      assert.deepStrictEqual([...decodeCheckRequest(bytes).headers], headers);
      assertSame(bytes, JSON.stringify(headers));
    }
  });

  test('merges an embedded message that occurs twice: the last scalar wins, maps and header_map add up', () => {
    const attrs = (method: string, ext: string, extra: Buffer = Buffer.alloc(0)) =>
      lenField(1, Buffer.concat([lenField(4, lenField(2, Buffer.concat([strField(2, method), extra]))), mapEntry(10, ext, 'v')]));
    const headerMap = (k: string, v: string) => lenField(13, lenField(1, Buffer.concat([strField(1, k), strField(2, v)])));
    const bytes = Buffer.concat([
      attrs('GET', 'first', Buffer.concat([strField(4, '/p'), headerMap('x-a', '1')])),
      attrs('POST', 'second', headerMap('x-a', '2')),
    ]);
    const req = decodeCheckRequest(bytes);
    assert.equal(req.method, 'POST');
    assert.equal(req.path, '/p', 'a field only the first occurrence set survives the merge');
    assert.deepStrictEqual({ ...req.contextExtensions }, { first: 'v', second: 'v' });
    assert.deepStrictEqual(req.headers.get('x-a'), ['1', '2']);
    assertSame(bytes, 'merged');
  });

  test('merges the peers and addresses too, and an empty last value still wins', () => {
    const peer = (principal: string, address?: string) =>
      lenField(1, Buffer.concat([strField(4, principal), ...(address === undefined ? [] : [lenField(1, lenField(1, strField(2, address)))])]));
    const bytes = Buffer.concat([lenField(1, peer('spiffe://a', '10.0.0.1')), lenField(1, peer(''))]);
    assert.deepStrictEqual(decodeCheckRequest(bytes).source, { principal: '', address: '10.0.0.1' });
    assertSame(bytes, 'peers');
  });

  test('keeps the last value of a repeated map key, and lists the values of keys differing in case in key order', () => {
    const bytes = httpField(mapEntry(3, 'x-b', '1'), mapEntry(3, 'x-a', 'first'), mapEntry(3, 'x-b', '2'), mapEntry(3, 'X-A', 'upper'));
    const req = decodeCheckRequest(bytes);
    assert.deepStrictEqual(req.headers.get('x-b'), ['2']);
    assert.deepStrictEqual(req.headers.get('x-a'), ['upper', 'first'], "'X-A' sorts before 'x-a'");
    assertSame(bytes, 'map keys');
    const reordered = httpField(mapEntry(3, 'X-A', 'upper'), mapEntry(3, 'x-a', 'first'));
    assert.deepStrictEqual(decodeCheckRequest(reordered).headers.get('x-a'), ['upper', 'first'], 'wire order does not matter');
  });

  test('uses x-request-id when it has a non-empty value and the stream id otherwise', () => {
    const http = (...parts: Buffer[]) => httpField(strField(1, '777'), ...parts);
    const headerMap = (...values: string[]) => lenField(13, Buffer.concat(values.map((v) => lenField(1, Buffer.concat([strField(1, 'X-Request-ID'), strField(2, v)])))));
    assert.equal(decodeCheckRequest(http(headerMap('', 'rid-2'))).requestId, 'rid-2');
    assert.equal(decodeCheckRequest(http(headerMap(''))).requestId, '777');
    assert.equal(decodeCheckRequest(http(mapEntry(3, 'x-request-id', 'rid-1'))).requestId, 'rid-1');
    assert.equal(decodeCheckRequest(http()).requestId, '777');
  });

  test('decodes a request over 64 KiB, with a body, exactly as the reference', () => {
    const g = rng(64);
    for (let i = 0; i < 50; i++) {
      const long = `${'ü'.repeat(40)}${'a'.repeat(100)}`;
      const lastHeaderMap = lenField(13, lenField(1, Buffer.concat([strField(1, 'X-Long'), strField(3, long)])));
      const http = Buffer.concat([httpMessage(g), strField(11, 'b'.repeat(70_000)), mapEntry(3, 'x-long', long), lastHeaderMap]);
      const bytes = Buffer.concat([randomCheckRequest(g), lenField(1, Buffer.concat([attributesMessage(g), lenField(4, lenField(2, http))]))]);
      assert.ok(bytes.length > 64 * 1024);
      if (assertSame(bytes, `case ${i}`).ok) assert.ok(decodeCheckRequest(bytes).headers.get('x-long')?.includes(long));
    }
  });

  test('decodes strings of every length around the 64-byte ASCII scan, and refuses one that is not UTF-8', () => {
    for (let n = 1; n < 80; n++) {
      for (const at of [0, n >> 1, n - 1]) {
        const chars = Array.from({ length: n }, () => 'a');
        chars[at] = 'é';
        const value = chars.join('');
        const entry = lenField(1, Buffer.concat([strField(1, 'x'), lenField(3, Buffer.from(value, 'utf8')), strField(2, value)]));
        const bytes = httpField(strField(2, value), mapEntry(3, 'y', value), lenField(13, entry));
        const req = decodeCheckRequest(bytes);
        assert.equal(req.method, value);
        assert.deepStrictEqual(req.headers.get('x'), [value]);
        assertSame(bytes, `length ${n}`);
      }
      // a lone byte 0xff: latin1 in raw_value (bytes), a malformed message in a string field
      const invalid = Buffer.concat([Buffer.alloc(n - 1, 'a'), Buffer.from([0xff])]);
      const raw = httpField(lenField(13, lenField(1, Buffer.concat([strField(1, 'x'), lenField(3, invalid)]))));
      assert.deepStrictEqual(decodeCheckRequest(raw).headers.get('x'), [`${'a'.repeat(n - 1)}\u00ff`]);
      assertSame(raw, `raw_value ${n}`);
      const str = httpField(strField(2, invalid));
      assert.throws(() => decodeCheckRequest(str), /not valid UTF-8/);
      assertSame(str, `string ${n}`);
    }
  });

  test('keeps a byte order mark at the start of raw_value', () => {
    const bytes = httpField(lenField(13, lenField(1, Buffer.concat([strField(1, 'x'), lenField(3, Buffer.from('\ufeffv', 'utf8'))]))));
    assert.deepStrictEqual(decodeCheckRequest(bytes).headers.get('x'), ['\ufeffv']);
    assertSame(bytes, 'BOM');
  });

  test('decodes an Envoy-shaped request built with Envoy\'s protos', () => {
    const req = decodeCheckRequest(envoyShaped());
    assert.equal(req.host, 'pay.example.com');
    assert.equal(req.requestId, 'f81d4fae-7dec-11d0-a765-00a0c91e6bf6');
    assert.deepStrictEqual(req.headers.get(':authority'), ['pay.example.com']);
    assert.deepStrictEqual(req.source, { principal: 'spiffe://cluster.local/ns/web/sa/frontend', address: '10.1.2.3' });
    assertSame(envoyShaped(), 'envoy');
  });
});
