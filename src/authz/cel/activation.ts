/**
 * The variables a condition sees (docs/cel.md "Variables"), and the sizes of the
 * parts of them it reads, for the cost bound.
 *
 * Decisions:
 * - `request.headers`: every header Envoy sent, lowercase names, repeated headers
 *   joined with "," (RFC 9110 §5.3), `cookie` with "; " (RFC 6265 §5.4) — the same
 *   joining Envoy's own `headers` map uses.
 * - `request.query`: parsed like URLSearchParams (form decoding: `+` is a space,
 *   percent-escapes decoded). A repeated key's values are joined with "," in
 *   order, so `tenant=acme&tenant=evil` never equals "acme": an upstream that reads
 *   the last value cannot be handed a different value than the one checked.
 * - Header and query maps have no prototype: a key named `__proto__` or
 *   `constructor` is an ordinary key.
 */
import { CelPeer, CelRequest } from './environment.js';
import type { InputSizes, Reads } from './cost-model.js';
import type { ConditionInput } from './types.js';

export interface Activation {
  claims: Record<string, unknown>;
  request: CelRequest;
  source: CelPeer;
  destination: CelPeer;
}

const EMPTY: Readonly<Record<string, string>> = Object.freeze(Object.create(null) as Record<string, string>);

/** All headers, or only `names` (the ones an expression reads by name). */
export function joinHeaders(headers: ReadonlyMap<string, readonly string[]>, names?: ReadonlySet<string>): Record<string, string> {
  const out = Object.create(null) as Record<string, string>;
  const join = (name: string, values: readonly string[]) => (out[name] = values.join(name === 'cookie' ? '; ' : ','));
  if (names) {
    for (const name of names) {
      const values = headers.get(name);
      if (values) join(name, values);
    }
  } else {
    for (const [name, values] of headers) join(name, values);
  }
  return out;
}

export function parseQuery(rawPath: string): Record<string, string> {
  const out = Object.create(null) as Record<string, string>;
  const q = rawPath.indexOf('?');
  if (q === -1) return out;
  const hash = rawPath.indexOf('#', q);
  const params = new URLSearchParams(rawPath.slice(q + 1, hash === -1 ? undefined : hash));
  for (const [k, v] of params) out[k] = k in out ? `${out[k]},${v}` : v;
  return out;
}

/** Builds only what the expression can read: unread maps are empty, headers read by name are the only ones copied. */
export function buildActivation(input: ConditionInput, reads: Reads): Activation {
  const whole = reads.wholeRequest;
  const headers = whole || reads.headersMap ? joinHeaders(input.headers) : reads.headerKeys.size > 0 ? joinHeaders(input.headers, reads.headerKeys) : EMPTY;
  const query = whole || reads.queryMap || reads.queryKeys.size > 0 ? parseQuery(input.rawPath) : EMPTY;
  return {
    claims: input.claims,
    request: new CelRequest(input.method, input.host, input.path, query, headers, new Date(input.nowSec * 1000)),
    source: new CelPeer(input.source.principal, input.source.address),
    destination: new CelPeer(input.destination.principal, input.destination.address),
  };
}

/**
 * The largest collection and the longest string among the inputs `reads` names.
 * Iterative: a 16 KiB token can nest arrays thousands deep.
 */
export function measureInputs(a: Activation, reads: Reads): InputSizes {
  const sizes: InputSizes = { collection: 0, string: 0 };
  const str = (s: string) => {
    if (s.length > sizes.string) sizes.string = s.length;
  };
  const map = (m: Readonly<Record<string, string>>, whole: boolean, keys: ReadonlySet<string>) => {
    if (whole) {
      let n = 0;
      for (const k in m) {
        n++;
        str(k);
        str(m[k]!);
      }
      if (n > sizes.collection) sizes.collection = n;
    } else {
      for (const k of keys) if (k in m) str(m[k]!);
    }
  };
  if (reads.claims) measureJson(a.claims, sizes);
  const r = a.request;
  map(r.headers, reads.wholeRequest || reads.headersMap, reads.headerKeys);
  map(r.query, reads.wholeRequest || reads.queryMap, reads.queryKeys);
  if (reads.wholeRequest || reads.fields.has('method')) str(r.method);
  if (reads.wholeRequest || reads.fields.has('host')) str(r.host);
  if (reads.wholeRequest || reads.fields.has('path')) str(r.path);
  if (reads.peers) for (const p of [a.source, a.destination]) (str(p.principal), str(p.address));
  return sizes;
}

function measureJson(root: unknown, sizes: InputSizes): void {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (v.length > sizes.string) sizes.string = v.length;
    } else if (Array.isArray(v)) {
      if (v.length > sizes.collection) sizes.collection = v.length;
      for (const e of v) stack.push(e);
    } else if (v !== null && typeof v === 'object') {
      const keys = Object.keys(v);
      if (keys.length > sizes.collection) sizes.collection = keys.length;
      for (const k of keys) {
        if (k.length > sizes.string) sizes.string = k.length;
        stack.push((v as Record<string, unknown>)[k]);
      }
    }
  }
}
