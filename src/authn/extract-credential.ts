/** Find the one bearer credential of a request in the policy's token sources (docs/configuration.md "Token sources"). */
import type { TokenSource } from '../compile/snapshot.js';
import type { Credential, CredentialSourceRef } from './types.js';

type Found = { kind: 'none' } | { kind: 'token'; token: string; dpop?: true } | { kind: 'conflict'; description: string };

const NONE: Found = { kind: 'none' };

/**
 * Sources are tried in order and the first holding a credential wins, but RFC 6750 §2 allows one
 * method per request: credentials in several sources that differ, or two in one header, are a conflict.
 */
export function extractCredential(
  headers: ReadonlyMap<string, readonly string[]>,
  rawPath: string,
  sources: readonly TokenSource[],
): Credential {
  let chosen: { kind: 'token'; token: string; source: CredentialSourceRef; dpop?: true } | undefined;
  for (const source of sources) {
    const found = fromSource(headers, rawPath, source);
    if (found.kind === 'conflict') return found;
    if (found.kind === 'none') continue;
    if (!chosen) chosen = found.dpop ? { kind: 'token', token: found.token, source: sourceRef(source), dpop: true } : { kind: 'token', token: found.token, source: sourceRef(source) };
    else if (chosen.token !== found.token || chosen.dpop !== found.dpop) return { kind: 'conflict', description: 'credentials in several places' };
  }
  return chosen ?? { kind: 'none' };
}

function sourceRef(source: TokenSource): CredentialSourceRef {
  switch (source.type) {
    case 'header': return { type: 'header', name: source.header.toLowerCase() };
    case 'cookie': return { type: 'cookie', name: source.cookie };
    case 'query': return { type: 'query', name: source.query };
  }
}

function fromSource(headers: ReadonlyMap<string, readonly string[]>, rawPath: string, source: TokenSource): Found {
  switch (source.type) {
    case 'header': {
      const name = source.header.toLowerCase();
      return fromHeader(headers.get(name) ?? [], source.prefix.toLowerCase(), name === 'authorization');
    }
    case 'cookie': return fromCookie(headers.get('cookie') ?? [], source.cookie);
    case 'query': return fromQuery(rawPath, source.query);
  }
}

/**
 * Envoy joins repeated headers with "," (and `header_map` gives one value per occurrence), so each
 * comma-separated element is one credential attempt. A token68 (RFC 7235 §2.1) never holds a comma.
 */
function fromHeader(values: readonly string[], prefix: string, dpop: boolean): Found {
  // The usual request: one value, one credential; no split and no list.
  if (values.length === 1 && !values[0]!.includes(',')) return foundIn(values[0]!, prefix, dpop);
  let found: Found = NONE;
  for (const value of values) {
    for (const element of value.split(',')) {
      const f = foundIn(element, prefix, dpop);
      if (f.kind === 'none') continue;
      if (found.kind !== 'none') return { kind: 'conflict', description: 'several credentials in one header' };
      found = f;
    }
  }
  return found;
}

/**
 * RFC 9449 §7.1: `Authorization: DPoP <token>` beside the source's own scheme; only on
 * `authorization` (contract: cookie and query sources never carry DPoP tokens).
 */
function foundIn(element: string, prefix: string, dpop: boolean): Found {
  const token = credentialIn(element, prefix);
  if (token !== undefined) return { kind: 'token', token };
  const bound = dpop ? credentialIn(element, DPOP_PREFIX) : undefined;
  return bound !== undefined ? { kind: 'token', token: bound, dpop: true } : NONE;
}

const DPOP_PREFIX = 'dpop ';

/** The token of one comma-separated element, when it has the scheme (`prefix`, lowercase; '' for a bare token). */
function credentialIn(element: string, prefix: string): string | undefined {
  const item = element.trim();
  if (item === '') return undefined;
  if (prefix === '') return item;
  // The scheme is case-insensitive (RFC 7235 §2.1); another scheme (e.g. Basic) is not a bearer token.
  if (!startsWithIgnoringAsciiCase(item, prefix)) return undefined;
  const token = item.slice(prefix.length).trim();
  return token === '' ? undefined : token;
}

/** `prefix` is lowercase. Only ASCII letters fold, as in String#toLowerCase for the schemes in use. */
function startsWithIgnoringAsciiCase(s: string, prefix: string): boolean {
  if (s.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) {
    const c = s.charCodeAt(i);
    const lower = c >= 65 && c <= 90 ? c + 32 : c;
    if (lower !== prefix.charCodeAt(i)) return false;
  }
  return true;
}

/** RFC 6265 §5.4 cookie header: `name=value; name2=value2`, possibly in several header values. */
function fromCookie(values: readonly string[], name: string): Found {
  const seen = new Set<string>();
  for (const value of values) {
    for (const pair of value.split(';')) {
      const eq = pair.indexOf('=');
      if (eq < 0 || pair.slice(0, eq).trim() !== name) continue;
      let v = pair.slice(eq + 1).trim();
      // RFC 6265 §4.1.1: cookie-value may be wrapped in DQUOTEs.
      if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
      if (v !== '') seen.add(v);
    }
  }
  if (seen.size > 1) return { kind: 'conflict', description: 'several credentials in cookies' };
  const [token] = seen;
  return token !== undefined ? { kind: 'token', token } : NONE;
}

function fromQuery(rawPath: string, name: string): Found {
  const q = rawPath.indexOf('?');
  if (q < 0) return NONE;
  let query = rawPath.slice(q + 1);
  const hash = query.indexOf('#');
  if (hash >= 0) query = query.slice(0, hash);
  const tokens: string[] = [];
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=');
    const rawKey = eq < 0 ? pair : pair.slice(0, eq);
    if (decode(rawKey) !== name) continue;
    const value = eq < 0 ? '' : decode(pair.slice(eq + 1));
    // An undecodable value cannot be a token; it still counts as a second attempt.
    if (value === undefined) return { kind: 'conflict', description: 'malformed credential in query' };
    if (value !== '') tokens.push(value);
  }
  if (tokens.length > 1) return { kind: 'conflict', description: 'several credentials in the query' };
  return tokens.length === 1 ? { kind: 'token', token: tokens[0]! } : NONE;
}

/** application/x-www-form-urlencoded: "+" is a space. */
function decode(s: string): string | undefined {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}
