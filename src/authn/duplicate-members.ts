/**
 * Whether a JSON text (already accepted by JSON.parse) has an object with the same
 * member name twice. JSON.parse keeps the last one; other parsers keep the first, so
 * `{"sub":"alice",…,"sub":"admin"}` means one subject here and another to the next
 * reader. RFC 7515 §5.2 lets a JWS parser reject duplicate header names, and RFC 8725
 * §2.8 (BCP 225) warns about exactly this kind of parser disagreement.
 *
 * Names are compared after unescaping, so `"s\u0075b"` and `"sub"` are one name.
 */
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

export function hasDuplicateMembers(json: string): boolean {
  // one entry per open container: the names seen so far, or null for an array
  const stack: (Set<string> | null)[] = [];
  const n = json.length;
  for (let i = 0; i < n; i++) {
    const c = json.charCodeAt(i);
    if (c === 0x7b /* { */) stack.push(new Set());
    else if (c === 0x5b /* [ */) stack.push(null);
    else if (c === 0x7d /* } */ || c === 0x5d /* ] */) stack.pop();
    else if (c === QUOTE) {
      const start = i;
      let escaped = false;
      for (i++; i < n; i++) {
        const d = json.charCodeAt(i);
        if (d === BACKSLASH) {
          escaped = true;
          i++;
        } else if (d === QUOTE) {
          break;
        }
      }
      const top = stack[stack.length - 1];
      if (!top || !isFollowedByColon(json, i + 1)) continue;
      const name = escaped ? (JSON.parse(json.slice(start, i + 1)) as string) : json.slice(start + 1, i);
      if (top.has(name)) return true;
      top.add(name);
    }
  }
  return false;
}

function isFollowedByColon(json: string, from: number): boolean {
  for (let i = from; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (c === 0x3a /* : */) return true;
    // JSON whitespace: space, tab, newline, carriage return
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return false;
  }
  return false;
}
