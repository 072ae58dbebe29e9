/**
 * Protobuf wire-format reading over a Buffer, for decode-check-request.ts and health.ts
 * (protobuf.dev/programming-guides/encoding/). Every read takes `end`, the end of the
 * enclosing message: a field that runs past its message is malformed even when the
 * bytes exist further on.
 */
import { isAscii, isUtf8 } from 'node:buffer';
import { ClaimcheckError } from '../../errors.js';

const VARINT = 0;
const I64 = 1;
export const LEN = 2;
const SGROUP = 3;
const EGROUP = 4;
const I32 = 5;

/** protobuf's own parsers stop at 100 levels of nesting */
const MAX_GROUP_DEPTH = 100;

const WHOLE_TEXT_MAX = 64 * 1024;

function invalid(message: string): ClaimcheckError {
  return new ClaimcheckError('invalid_request_proto', `malformed request message: ${message}`);
}

export class WireReader {
  pos = 0;
  /** the whole message as latin1, made on the first ASCII string */
  private text: string | undefined;

  constructor(readonly buf: Buffer) {}

  /** A varint of up to 10 bytes (64 bits); above 2^53 the value is approximate, which only lengths and skips see. */
  varint(end: number): number {
    const buf = this.buf;
    let pos = this.pos;
    if (pos >= end) throw invalid('truncated varint');
    let b = buf[pos++];
    if (b < 0x80) {
      this.pos = pos;
      return b;
    }
    let value = b & 0x7f;
    let scale = 0x80;
    for (let i = 1; i < 10; i++) {
      if (pos >= end) throw invalid('truncated varint');
      b = buf[pos++];
      value += (b & 0x7f) * scale;
      if (b < 0x80) {
        this.pos = pos;
        return value;
      }
      scale *= 0x80;
    }
    throw invalid('varint longer than 10 bytes');
  }

  /** field number << 3 | wire type; field number 0 is not a field (encoding spec, "Message Structure") */
  tag(end: number): number {
    const t = this.varint(end);
    if (t > 0xffffffff) throw invalid('tag out of range');
    if (t < 8) throw invalid('field number 0');
    return t;
  }

  /** Reads a length prefix and returns where its payload ends. */
  lengthEnd(end: number): number {
    const len = this.varint(end);
    if (len > end - this.pos) throw invalid('length past the end of the message');
    return this.pos + len;
  }

  /** proto3 strings must be valid UTF-8; a parser refuses the message otherwise (language guide, "Scalar Value Types"). */
  string(end: number): string {
    const stop = this.lengthEnd(end);
    const start = this.pos;
    this.pos = stop;
    const ascii = this.ascii(start, stop);
    if (ascii !== undefined) return ascii;
    if (!isUtf8(this.buf.subarray(start, stop))) throw invalid('string field is not valid UTF-8');
    return this.buf.toString('utf8', start, stop);
  }

  /**
   * The bytes as a string if they are all ASCII (where latin1 and UTF-8 agree). Slicing
   * one latin1 copy of the message is much cheaper than a native call per field, but
   * a slice of 13+ characters keeps that copy alive: keep decoded strings request-scoped.
   */
  ascii(start: number, stop: number): string | undefined {
    const buf = this.buf;
    if (stop - start > 64) {
      if (!isAscii(buf.subarray(start, stop))) return undefined;
    } else {
      for (let i = start; i < stop; i++) if (buf[i] >= 0x80) return undefined;
    }
    if (stop === start) return '';
    // A large message is mostly a request body nobody reads: do not copy it whole.
    if (buf.length > WHOLE_TEXT_MAX) return buf.toString('latin1', start, stop);
    this.text ??= buf.toString('latin1', 0, buf.length);
    return this.text.slice(start, stop);
  }

  /** Skips the field whose tag was just read; an unknown group is skipped through its END_GROUP. */
  skip(tag: number, end: number): void {
    // field numbers of the groups being skipped, innermost last
    let groups: number[] | undefined;
    for (;;) {
      const wireType = tag & 7;
      switch (wireType) {
        case VARINT:
          this.varint(end);
          break;
        case I64:
          this.advance(8, end);
          break;
        case LEN:
          this.pos = this.lengthEnd(end);
          break;
        case I32:
          this.advance(4, end);
          break;
        case SGROUP:
          groups ??= [];
          if (groups.push(tag >>> 3) > MAX_GROUP_DEPTH) throw invalid('groups nested too deep');
          break;
        case EGROUP:
          if (groups?.pop() !== tag >>> 3) throw invalid('END_GROUP without its START_GROUP');
          break;
        default:
          // 6 and 7 do not exist
          throw invalid(`wire type ${wireType}`);
      }
      if (!groups?.length) return;
      tag = this.tag(end);
    }
  }

  private advance(n: number, end: number): void {
    if (n > end - this.pos) throw invalid('truncated fixed-width field');
    this.pos += n;
  }
}
