/**
 * The protobuf reference the codec is tested against: @bufbuild/protobuf, which passes the
 * protobuf conformance suite, reading claimcheck's proto/ as protoc compiled it
 * (claimcheck-protos.binpb, written by scripts/gen-test-descriptors.sh). The mapping to
 * the domain request is written again here, independently of src/grpc/wire/, from the
 * rules decode-check-request.ts states.
 */
import { readFileSync } from 'node:fs';
import { createFileRegistry, fromBinary, type DescMessage } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import type { AuthRequest, Peer } from '../../src/request.js';

export const DESCRIPTOR_SET_FILE = new URL('./claimcheck-protos.binpb', import.meta.url);

export const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(DESCRIPTOR_SET_FILE)));

export function messageSchema(typeName: string): DescMessage {
  const schema = registry.getMessage(typeName);
  if (!schema) throw new Error(`${typeName} is not in ${DESCRIPTOR_SET_FILE.pathname}`);
  return schema;
}

const CheckRequest = messageSchema('envoy.service.auth.v3.CheckRequest');
const CheckResponse = messageSchema('envoy.service.auth.v3.CheckResponse');

/** A decoded message with the fields under their protobuf-es (camelCase) names. */
export type Decoded = Record<string, any>;

export const referenceDecodeResponse = (bytes: Uint8Array): Decoded => fromBinary(CheckResponse, bytes) as Decoded;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** raw_value octets: UTF-8 when they are valid UTF-8, else one character per byte. */
function octets(raw: Uint8Array): string {
  try {
    return utf8.decode(raw);
  } catch {
    return Buffer.from(raw.buffer, raw.byteOffset, raw.length).toString('latin1');
  }
}

function peer(p: Decoded | undefined): Peer {
  const address = p?.address?.address;
  const out: Peer = { principal: p?.principal ?? '', address: address?.case === 'socketAddress' ? address.value.address : '' };
  const certificate = urlDecoded(p?.certificate ?? '');
  if (certificate !== undefined) out.certificate = certificate;
  return out;
}

/**
 * Envoy's encoding of Peer.certificate undone as RFC 3986 §2.1 says: each run of %XX
 * escapes is the UTF-8 of its characters, everything else stands for itself.
 */
function urlDecoded(text: string): string | undefined {
  if (text === '') return undefined;
  let out = '';
  for (let i = 0; i < text.length; ) {
    if (text[i] !== '%') {
      out += text[i++];
      continue;
    }
    const bytes: number[] = [];
    while (text[i] === '%') {
      const hex = text.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return undefined;
      bytes.push(parseInt(hex, 16));
      i += 3;
    }
    try {
      out += new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(Uint8Array.from(bytes));
    } catch {
      return undefined;
    }
  }
  return out;
}

/** CheckRequest bytes -> AuthRequest by the reference; throws where the reference refuses the bytes. */
export function referenceDecodeRequest(bytes: Uint8Array): AuthRequest {
  const msg = fromBinary(CheckRequest, bytes) as Decoded;
  const a: Decoded | undefined = msg.attributes;
  const http: Decoded | undefined = a?.request?.http;
  const headers = new Map<string, string[]>();
  const add = (key: string, value: string) => {
    if (key === '') return;
    const name = key.toLowerCase();
    const list = headers.get(name);
    if (list) list.push(value);
    else headers.set(name, [value]);
  };
  const entries: Decoded[] = http?.headerMap?.headers ?? [];
  if (entries.length > 0) {
    for (const e of entries) add(e.key, e.rawValue.length > 0 ? octets(e.rawValue) : e.value);
  } else {
    // a map is unordered: keys that name one header in different case, in code-unit order
    const map: Record<string, string> = http?.headers ?? {};
    for (const key of Object.keys(map).sort()) add(key, map[key]!);
  }
  const contextExtensions: Record<string, string> = {};
  for (const [key, value] of Object.entries((a?.contextExtensions ?? {}) as Record<string, string>)) {
    Object.defineProperty(contextExtensions, key, { value, writable: true, enumerable: true, configurable: true });
  }
  return {
    method: http?.method ?? '',
    host: http?.host ?? '',
    path: http?.path ?? '',
    headers,
    contextExtensions,
    requestId: headers.get('x-request-id')?.find((v) => v !== '') ?? http?.id ?? '',
    scheme: http?.scheme ?? '',
    source: peer(a?.source),
    destination: peer(a?.destination),
  };
}

const byKey = ([a]: [string, unknown], [b]: [string, unknown]) => (a < b ? -1 : a > b ? 1 : 0);

/** A request as a comparable value: protobuf maps are unordered, so names and extension keys are sorted. */
export function comparable(r: AuthRequest): unknown {
  return { ...r, headers: [...r.headers].sort(byKey), contextExtensions: Object.entries(r.contextExtensions).sort(byKey) };
}
