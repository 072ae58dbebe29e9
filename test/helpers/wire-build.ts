/**
 * Protobuf wire bytes built by hand for the codec tests, independently of src/grpc/wire/,
 * and the seeded randomness the generators draw from.
 */
import { mulberry32 } from './prng.js';

export function rng(seed: number) {
  const next = mulberry32(seed);
  const int = (n: number) => Math.floor(next() * n);
  return {
    next,
    int,
    chance: (p: number) => next() < p,
    pick: <T>(xs: readonly T[]): T => xs[int(xs.length)]!,
    shuffle: <T>(xs: T[]): T[] => {
      for (let i = xs.length - 1; i > 0; i--) {
        const j = int(i + 1);
        [xs[i], xs[j]] = [xs[j]!, xs[i]!];
      }
      return xs;
    },
  };
}
export type Rng = ReturnType<typeof rng>;

const PIECES = ['a', 'Z', '-', '9', ' ', 'é', 'Ü', 'ß', 'İ', '漢', '字', '😀', '\u00a0', '\ufeff', ',', '"', 'x', 'Q'];
export function randomString(g: Rng, max = 12): string {
  if (g.chance(0.1)) return '';
  let s = '';
  const n = 1 + g.int(g.chance(0.05) ? 300 : max);
  for (let i = 0; i < n; i++) s += g.chance(0.7) ? String.fromCharCode(0x61 + g.int(26)) : g.pick(PIECES);
  return s;
}

export function randomBytes(g: Rng, n: number): Buffer {
  return Buffer.from(Array.from({ length: n }, () => g.int(256)));
}

export function varint(v: bigint | number): Buffer {
  let x = BigInt(v);
  const out: number[] = [];
  while (x > 0x7fn) {
    out.push(Number(x & 0x7fn) | 0x80);
    x >>= 7n;
  }
  out.push(Number(x));
  return Buffer.from(out);
}
export const key = (field: number, wireType: number) => varint(BigInt(field) * 8n + BigInt(wireType));
export const lenField = (field: number, payload: Buffer) => Buffer.concat([key(field, 2), varint(payload.length), payload]);
export const strField = (field: number, s: string | Buffer) => lenField(field, typeof s === 'string' ? Buffer.from(s, 'utf8') : s);
export const varintField = (field: number, v: bigint | number) => Buffer.concat([key(field, 0), varint(v)]);
export const mapEntry = (field: number, k: string, v: string) => lenField(field, Buffer.concat([strField(1, k), strField(2, v)]));

/** CheckRequest.attributes.request.http with these fields */
export const httpField = (...parts: Buffer[]) => lenField(1, lenField(4, lenField(2, Buffer.concat(parts))));

/** 0..2 fields whose numbers the message does not define, of every skippable wire type, groups included. */
export function unknownFields(g: Rng, known: number[], p = 0.3): Buffer[] {
  const out: Buffer[] = [];
  while (out.length < 2 && g.chance(p)) {
    let field = g.pick([3, 5, 7, 12, 14, 15, 16, 99, 1000, 19000, 536870911]);
    while (known.includes(field)) field++;
    const kind = g.pick([0, 1, 2, 3, 5]);
    if (kind === 0) out.push(varintField(field, g.pick([0n, 1n, 300n, 2n ** 35n, 2n ** 63n, 2n ** 64n - 1n])));
    else if (kind === 1) out.push(Buffer.concat([key(field, 1), randomBytes(g, 8)]));
    else if (kind === 3) out.push(Buffer.concat([key(field, 3), varintField(1, 5), lenField(2, randomBytes(g, 3)), key(field, 4)]));
    else if (kind === 5) out.push(Buffer.concat([key(field, 5), randomBytes(g, 4)]));
    else out.push(lenField(field, randomBytes(g, g.int(20))));
  }
  return out;
}

/** Fields in wire order, or shuffled: a message's meaning must not depend on field order, except which occurrence is last. */
export const message = (g: Rng, parts: Buffer[]) => Buffer.concat(g.chance(0.5) ? g.shuffle(parts) : parts);

/** How often a field occurs: 0, 1 or (merged or last-wins) 2. */
export function times(g: Rng, pNone: number, pTwo: number): number {
  if (g.chance(pNone)) return 0;
  return g.chance(pTwo) ? 2 : 1;
}
