/**
 * decodeCheckRequest on bytes no Envoy sends: truncations, random mutations and a table of
 * hostile encodings. Where the bytes are well-formed both decoders must agree; elsewhere
 * the codec refuses with a ClaimcheckError, never another exception, and each case where
 * the protobuf reference answers differently is pinned with the reason.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCheckRequest } from '../../src/grpc/wire/decode-check-request.js';
import { ClaimcheckError } from '../../src/errors.js';
import { comparable, referenceDecodeRequest } from '../oracle/reference-codec.js';
import { envoyShaped, randomCheckRequest } from '../helpers/random-check-request.js';
import { wellFormed } from '../helpers/well-formed.js';
import { key, lenField, randomBytes, rng, strField, varint, varintField } from '../helpers/wire-build.js';

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };
function attempt(fn: () => unknown): Outcome {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    return { ok: false, error };
  }
}
const oursOn = (bytes: Buffer): Outcome => attempt(() => comparable(decodeCheckRequest(bytes)));
const theirsOn = (bytes: Buffer): Outcome => attempt(() => comparable(referenceDecodeRequest(bytes)));
const isRequestError = (e: unknown) => e instanceof ClaimcheckError && e.code === 'invalid_request_proto';

const samples = (): Buffer[] => {
  const g = rng(7);
  return [envoyShaped(), ...Array.from({ length: 40 }, () => randomCheckRequest(g))];
};

describe('decodeCheckRequest on hostile bytes', () => {
  test('rejects or accepts every truncation as the reference does, with a ClaimcheckError', { timeout: 60_000 }, () => {
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

  test('decodes every well-formed mutant as the reference does and rejects the rest only with a ClaimcheckError', { timeout: 60_000 }, (t) => {
    const g = rng(99);
    const base = samples();
    const tally = { wellFormed: 0, bothReject: 0, onlyOursRejects: 0, onlyTheirsRejects: 0, bothAcceptDiffer: 0, bothAcceptSame: 0 };
    for (let i = 0; i < 20_000; i++) {
      let bytes: Buffer;
      if (i % 4 === 3) bytes = randomBytes(g, g.int(64));
      else {
        bytes = Buffer.from(g.pick(base));
        for (let k = 1 + g.int(3); k > 0 && bytes.length > 0; k--) bytes[g.int(bytes.length)] = g.chance(0.5) ? g.int(256) : bytes[g.int(bytes.length)]! ^ (1 << g.int(8));
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
    // With these seeds: ~2,200 well-formed (the peers' certificates are strings a mutant often
    // breaks); of the malformed ~15,000 rejected by both, ~380 only by us, ~200 only by the
    // reference, ~1,900 accepted by both alike and ~15 differently.
    // Only the reference rejects: invalid UTF-8 in a string field claimcheck does not read
    // (query, body, service...), which the codec skips unvalidated like an unknown field, and
    // a known field number with another wire type, which the reference misreads. Only the
    // codec rejects where the reference is laxer than the spec (pinned down below): it skips
    // varints of any length and truncates lengths to 32 bits.
    t.diagnostic(JSON.stringify(tally));
    assert.ok(tally.wellFormed > 1800 && tally.bothReject > 10_000, JSON.stringify(tally));
  });

  const attributes = (payload: Buffer) => lenField(1, payload);
  const httpWith = (payload: Buffer) => attributes(lenField(4, lenField(2, payload)));
  const good = httpWith(strField(2, 'GET'));
  const elevenByteVarint = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
  const tenByteVarint = varint(2n ** 64n - 1n);
  const group = (field: number, ...inner: Buffer[]) => Buffer.concat([key(field, 3), ...inner, key(field, 4)]);
  // [name, bytes, ours (true = returns, else rejects), reference (same)]
  const hostile: [string, Buffer, boolean, boolean][] = [
    ['a length of 2^31 on attributes', Buffer.concat([key(1, 2), varint(2n ** 31n), good]), false, false],
    // the reference keeps the low 32 bits of a length: 2^32 reads as 0
    ['a length of 2^32 on attributes', Buffer.concat([key(1, 2), varint(2n ** 32n), good]), false, true],
    ['a length of 2^64-1 on attributes', Buffer.concat([key(1, 2), tenByteVarint, good]), false, false],
    ['an unknown field with a length of 2^62', Buffer.concat([good, key(9, 2), varint(2n ** 62n)]), false, true],
    ['a method string longer than its message', httpWith(Buffer.concat([key(2, 2), varint(200), Buffer.from('GET')])), false, false],
    ['a group in an unknown field', Buffer.concat([good, group(9, varintField(1, 5))]), true, true],
    ['nested groups inside http', httpWith(Buffer.concat([group(20, group(21, strField(1, 'x'))), strField(2, 'GET')])), true, true],
    ['a group closed by another field number', Buffer.concat([good, key(9, 3), key(8, 4)]), false, false],
    ['a group never closed', Buffer.concat([good, key(9, 3), varintField(1, 5)]), false, false],
    ['a lone end-group tag', Buffer.concat([good, key(9, 4)]), false, false],
    ['wire type 6', Buffer.concat([good, key(9, 6), Buffer.alloc(8)]), false, false],
    ['wire type 7', Buffer.concat([good, key(9, 7), Buffer.alloc(8)]), false, false],
    // the reference skips an unknown varint of any length; the spec allows at most 10 bytes
    ['an 11-byte varint in an unknown field', Buffer.concat([good, key(9, 0), elevenByteVarint]), false, true],
    ['an 11-byte tag', Buffer.concat([good, elevenByteVarint]), false, false],
    ['a 10-byte varint in an unknown field', Buffer.concat([good, key(9, 0), tenByteVarint]), true, true],
    ['a tag above 2^32', Buffer.concat([good, varint(2n ** 33n + 2n), varint(0)]), false, false],
    ['field number 0', Buffer.concat([good, varintField(0, 1)]), false, false],
    ['a truncated fixed64', Buffer.concat([good, key(9, 1), Buffer.alloc(7)]), false, false],
    ['a truncated fixed32', Buffer.concat([good, key(9, 5), Buffer.alloc(3)]), false, false],
    ['a method that is not UTF-8', httpWith(strField(2, Buffer.from([0x47, 0xc0, 0xaf]))), false, false],
    ['an empty buffer', Buffer.alloc(0), true, true],
  ];
  for (const [name, bytes, oursAccepts, theirsAccept] of hostile) {
    test(`${oursAccepts ? 'accepts' : 'rejects'} ${name}${oursAccepts === theirsAccept ? ' as the reference does' : ' where the reference accepts'}`, () => {
      const ours = oursOn(bytes);
      if (!ours.ok) assert.ok(isRequestError(ours.error), String(ours.error));
      assert.equal(ours.ok, oursAccepts);
      const theirs = theirsOn(bytes);
      assert.equal(theirs.ok, theirsAccept, String(!theirs.ok && theirs.error));
      if (ours.ok && theirs.ok) assert.deepStrictEqual(ours.value, theirs.value);
    });
  }

  test('skips a known field number sent with another wire type instead of misreading it', () => {
    // method (2) as a varint, then host (5) as a fixed32
    const bytes = httpWith(Buffer.concat([varintField(2, 3), key(5, 5), Buffer.from('abcd'), strField(4, '/p')]));
    const req = decodeCheckRequest(bytes);
    assert.equal(req.method, '');
    assert.equal(req.host, '');
    assert.equal(req.path, '/p');
  });

  test('reads a non-minimal varint length', () => {
    const payload = lenField(4, lenField(2, strField(2, 'GET')));
    const sixBytes = Buffer.from([0x80 | payload.length, 0x80, 0x80, 0x80, 0x80, 0x00]);
    const bytes = Buffer.concat([key(1, 2), sixBytes, payload]);
    assert.equal(decodeCheckRequest(bytes).method, 'GET');
  });
});
