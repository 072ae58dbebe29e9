/** Find the one bearer credential of a request in the policy's token sources (docs/configuration.md "Token sources"). */
import type { TokenSource } from '../compile/snapshot.js';
import type { Credential, CredentialSourceRef } from './types.js';

type Found = { kind: 'none' } | { kind: 'token'; token: string } | { kind: 'conflict'; description: string };

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
  let chosen: { kind: 'token'; token: string; source: CredentialSourceRef } | undefined;
  for (const source of sources) {
    const found = fromSource(headers, rawPath, source);
    if (found.kind === 'conflict') return found;
    if (found.kind === 'none') continue;
    if (!chosen) chosen = { kind: 'token', token: found.token, source: sourceRef(source) };
    else if (chosen.token !== found.token) return { kind: 'conflict', description: 'credentials in several places' };
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
    case 'header': return fromHeader(headers.get(source.header.toLowerCase()) ?? [], source.prefix.toLowerCase());
    case 'cookie': return fromCookie(headers.get('cookie') ?? [], source.cookie);
    case 'query': return fromQuery(rawPath, source.query);
  }
}

/**
 * Envoy joins repeated headers with "," (and `header_map` gives one value per occurrence), so each
 * comma-separated element is one credential attempt. A token68 (RFC 7235 §2.1) never holds a comma.
 */
function fromHeader(values: readonly string[], prefix: string): Found {
  // The usual request: one value, one credential; no split and no list.
  if (values.length === 1 && !values[0]!.includes(',')) {
    const token = credentialIn(values[0]!, prefix);
    return token === undefined ? NONE : { kind: 'token', token };
  }
  const tokens: string[] = [];
  for (const value of values) {
    for (const element of value.split(',')) {
      const token = credentialIn(element, prefix);
      if (token !== undefined) tokens.push(token);
    }
  }
  if (tokens.length > 1) return { kind: 'conflict', description: 'several credentials in one header' };
  return tokens.length === 1 ? { kind: 'token', token: tokens[0]! } : NONE;
}

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
