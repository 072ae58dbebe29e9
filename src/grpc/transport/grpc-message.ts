/**
 * grpc-message is percent-encoded UTF-8: bytes outside 0x20–0x7E, and '%' itself, become %XX
 * (doc/PROTOCOL-HTTP2.md, "Responses").
 */
export function encodeGrpcMessage(message: string): string {
  if (/^[\x20-\x24\x26-\x7e]*$/.test(message)) return message;
  let out = '';
  for (const byte of Buffer.from(message, 'utf8')) {
    out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
