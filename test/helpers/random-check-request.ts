/**
 * Seeded random CheckRequest bytes that reach every case the decoder distinguishes: both
 * header shapes, repeated and merged messages, odd keys, raw_value octets, unknown fields.
 */
import { buildCheckRequest, loadUpstreamProtos } from './envoy-client.js';
import { lenField, mapEntry, message, randomBytes, randomString, strField, times, unknownFields, varintField, type Rng } from './wire-build.js';

const upstreamCheckRequest = loadUpstreamProtos()['envoy.service.auth.v3.CheckRequest'] as unknown as { serialize(o: unknown): Buffer };

/** A CheckRequest encoded with Envoy's own protos. */
export const encodeUpstream = (request: unknown): Buffer => upstreamCheckRequest.serialize(request);

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
  // now and then a value that is not UTF-8: the whole message is malformed then
  if (!g.chance(0.05)) parts.push(strField(2, g.chance(0.01) ? randomBytes(g, 3) : randomString(g)));
  if (g.chance(0.05)) parts.push(strField(2, randomString(g)));
  return lenField(3, message(g, [...parts, ...unknownFields(g, [1, 2], 0.1)]));
}

export function httpMessage(g: Rng): Buffer {
  const parts: Buffer[] = [];
  for (const field of [1, 2, 4, 5, 6]) for (let i = times(g, 0.3, 0.1); i > 0; i--) parts.push(strField(field, randomString(g, 20)));
  if (g.chance(0.6)) for (let i = g.int(12); i > 0; i--) parts.push(headersMapEntry(g));
  for (let i = times(g, 0.6, 0.2); i > 0; i--) {
    const entries: Buffer[] = [];
    for (let j = g.int(10); j > 0; j--) entries.push(lenField(1, headerValueMessage(g)));
    parts.push(lenField(13, message(g, [...entries, ...unknownFields(g, [1], 0.1)])));
  }
  // defined in claimcheck's proto but not read by claimcheck
  if (g.chance(0.3)) parts.push(strField(7, 'q=1'), strField(8, 'frag'), varintField(9, g.int(1e6)), strField(10, 'HTTP/2'), strField(11, '{}'));
  return message(g, [...parts, ...unknownFields(g, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13])]);
}

const TEST_PEM = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUE1ZK\n-----END CERTIFICATE-----\n';

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
  // include_peer_certificate: URL-encoded PEM, an empty value, bad escapes, an encoded invalid UTF-8 byte
  for (let i = times(g, 0.25, 0.1); i > 0; i--) parts.push(strField(5, g.pick([encodeURIComponent(TEST_PEM), '', '%zz', '%C3', randomString(g)])));
  if (g.chance(0.3)) parts.push(strField(2, 'frontend'));
  if (g.chance(0.2)) parts.push(mapEntry(3, 'app', 'web')); // upstream labels
  return message(g, [...parts, ...unknownFields(g, [1, 2, 4, 5])]);
}

const EXTENSION_KEYS = ['claimcheck.io/policy', 'k', 'K', '', '__proto__', '1', '0', 'toString', 'ünï'];

export function attributesMessage(g: Rng): Buffer {
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


export function randomCheckRequest(g: Rng): Buffer {
  if (g.chance(0.05)) {
    return encodeUpstream(
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

export const envoyShaped = (): Buffer =>
  encodeUpstream(
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
