/**
 * Whether bytes are a CheckRequest every protobuf parser must read alike: every known field
 * with its declared wire type and valid UTF-8 in its strings, nothing running past its
 * message, no groups, varints read as 32 bits (tags, lengths, uint32) in at most 5 bytes
 * and below 2^32, no field number 0. A test may then demand one answer from both decoders.
 */
import { isUtf8 } from 'node:buffer';

type Kind = 'string' | 'bytes' | 'uint32' | 'int64' | { [field: number]: Kind };
const SOCKET_ADDRESS: Kind = { 1: 'uint32', 2: 'string', 3: 'uint32', 4: 'string' };
const PEER: Kind = { 1: { 1: SOCKET_ADDRESS }, 2: 'string', 4: 'string', 5: 'string' };
const STRING_MAP_ENTRY: Kind = { 1: 'string', 2: 'string' };
const HEADER_MAP: Kind = { 1: { 1: 'string', 2: 'string', 3: 'bytes' } };
const HTTP: Kind = { 1: 'string', 2: 'string', 3: STRING_MAP_ENTRY, 4: 'string', 5: 'string', 6: 'string', 7: 'string', 8: 'string', 9: 'int64', 10: 'string', 11: 'string', 13: HEADER_MAP };
const CHECK_REQUEST: Kind = { 1: { 1: PEER, 2: PEER, 4: { 2: HTTP }, 10: STRING_MAP_ENTRY } };

export function wellFormed(buf: Buffer, start = 0, end = buf.length, schema: Kind = CHECK_REQUEST): boolean {
  let pos = start;
  const readVarint = (maxBytes: number): number | undefined => {
    let value = 0;
    for (let i = 0; i < maxBytes && pos < end; i++) {
      const b = buf[pos++]!;
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
    if (tag === undefined || tag >= 2 ** 32 || tag < 8) return false;
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
      if (kind === 'string' && !isUtf8(buf.subarray(pos, pos + len))) return false;
      if (typeof kind === 'object' && !wellFormed(buf, pos, pos + len, kind)) return false;
      pos += len;
    }
  }
  return true;
}
