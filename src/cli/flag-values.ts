/** Parsers of flag values: each returns the typed value or throws one clear bad_flag line. */
import { splitHostPort } from '../host-port.js';
import { tryParseDuration } from '../model/duration.js';
import { badFlag, type Parse } from './flag.js';

export const positiveInt: Parse<number> = (raw, name) => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) badFlag(`--${name} must be a positive integer (got "${raw}")`);
  return n;
};

/** An integer within [min, max]: the bounds a limit may be tuned within (cli/limit-flags.ts). */
export function intInRange(min: number, max: number): Parse<number> {
  return (raw, name) => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) badFlag(`--${name} must be an integer from ${min} to ${max} (got "${raw}")`);
    return n;
  };
}

/** A duration within [minMs, maxMs]. */
export function durationInRange(minMs: number, maxMs: number, shown: [string, string]): Parse<number> {
  return (raw, name) => {
    const ms = tryParseDuration(raw);
    if (ms === undefined || ms < minMs || ms > maxMs) badFlag(`--${name} must be a duration from ${shown[0]} to ${shown[1]} (got "${raw}")`);
    return ms;
  };
}

/** `auto` or a positive integer (--workers) */
export const autoOrPositiveInt: Parse<number | 'auto'> = (raw, name) => (raw === 'auto' ? 'auto' : positiveInt(raw, name));

export const nonNegativeInt: Parse<number> = (raw, name) => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) badFlag(`--${name} must be a non-negative integer (got "${raw}")`);
  return n;
};

export const fraction: Parse<number> = (raw, name) => {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) badFlag(`--${name} must be a number from 0 to 1 (got "${raw}")`);
  return n;
};

export function durationMs(min = 0): Parse<number> {
  return (raw, name) => {
    const ms = tryParseDuration(raw);
    if (ms === undefined) badFlag(`--${name} must be a duration like 10s or 1m (got "${raw}")`);
    if (ms < min) badFlag(`--${name} must be at least ${min >= 1000 ? `${min / 1000}s` : `${min}ms`} (got "${raw}")`);
    return ms;
  };
}

export const positiveDurationMs: Parse<number> = (raw, name) => {
  const ms = durationMs()(raw, name);
  if (ms <= 0) badFlag(`--${name} must be positive (got "${raw}")`);
  return ms;
};

/** HOST:PORT, [IPv6]:PORT, :PORT, or unix:/path when `unix` is allowed. */
export function listenAddr(unix: boolean): Parse<string> {
  return (raw, name) => {
    if (unix && raw.startsWith('unix:')) {
      if (raw.length <= 5) badFlag(`--${name} unix socket path is empty`);
      return raw;
    }
    if (!splitHostPort(raw)) badFlag(`--${name} must be HOST:PORT${unix ? ' or unix:/path.sock' : ''} (got "${raw}")`);
    return raw;
  };
}

export const headerPrefix: Parse<string> = (raw, name) => {
  const prefix = raw.toLowerCase();
  if (!/^[a-z0-9-]+$/.test(prefix)) badFlag(`--${name} must be a lowercase header name prefix (got "${prefix}")`);
  return prefix;
};

const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export const namespaceList: Parse<readonly string[]> = (raw, name) => {
  const list = raw.split(',').map((n) => n.trim()).filter(Boolean);
  for (const n of list) if (!NAMESPACE.test(n)) badFlag(`--${name} must be a comma-separated list of namespaces (got "${n}")`);
  return list;
};

export const headerPair: Parse<[string, string]> = (raw, name) => {
  const i = raw.indexOf('=');
  if (i <= 0) badFlag(`--${name} must be NAME=VALUE (got "${raw}")`);
  return [raw.slice(0, i).trim().toLowerCase(), raw.slice(i + 1)];
};

/** An http(s) URL without credentials, query or fragment, kept without a trailing slash (the `iss` of identity tokens). */
export const identityIssuer: Parse<string> = (raw, name) => {
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.username || url.password || url.search || url.hash || raw.includes('?') || raw.includes('#')) {
    badFlag(`--${name} must be an http or https URL without credentials, query or fragment (got "${raw}")`);
  }
  return raw.replace(/\/+$/, '');
};

/** `memory`, or `redis://HOST:PORT[/DB]` (the DPoP replay store) */
export const replayStore: Parse<string> = (raw, name) => {
  if (raw !== 'memory' && !/^redis:\/\/[^/\s:@]+(:\d{1,5})?(\/\d{1,2})?$/.test(raw)) badFlag(`--${name} must be memory or redis://HOST:PORT[/DB] (got "${raw}")`);
  return raw;
};
