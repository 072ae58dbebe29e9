/** Log lines about what a new key set holds: kids added, removed or replaced, keys skipped, duplicate kids. Never key material. */
import type { CompiledIssuer } from '../compile/snapshot.js';
import type { Logger } from '../telemetry/logger.js';
import type { PreparedKey } from './prepared-key.js';

export interface PreparedSet {
  keys: PreparedKey[];
  /** keys the filter left out, with why */
  skipped: { kid?: string; reason: string }[];
  /** keys that fit an algorithm but could not be imported for any */
  dropped: number;
}

export interface KeyDiff {
  added: string[];
  removed: string[];
  /** same kid, different key */
  replaced: string[];
}

const NO_KID = '(no kid)';

function byKid(keys: readonly PreparedKey[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const k of keys) {
    const id = k.kid ?? NO_KID;
    m.set(id, [...(m.get(id) ?? []), JSON.stringify(k.jwk)]);
  }
  return m;
}

export function diffKeys(before: readonly PreparedKey[], after: readonly PreparedKey[]): KeyDiff {
  const a = byKid(before);
  const b = byKid(after);
  const diff: KeyDiff = { added: [], removed: [], replaced: [] };
  for (const [kid, jwks] of b) {
    const old = a.get(kid);
    if (!old) diff.added.push(kid);
    else if (old.join('\n') !== jwks.join('\n')) diff.replaced.push(kid);
  }
  for (const kid of a.keys()) if (!b.has(kid)) diff.removed.push(kid);
  return diff;
}

/** Called only when the usable keys changed, so a routine unchanged refresh logs nothing. */
export function logPreparedSet(logger: Logger, issuer: CompiledIssuer, set: PreparedSet, diff: KeyDiff | undefined): void {
  const who = { issuer: issuer.key, iss: issuer.issuer };
  if (diff) logger.info({ ...who, keyCount: set.keys.length, ...diff }, 'keys changed');
  if (set.skipped.length > 0 || set.dropped > 0) logger.info({ ...who, skippedKeys: set.skipped, unimportable: set.dropped }, 'keys skipped');
  const kids = set.keys.flatMap((k) => (k.kid !== undefined ? [k.kid] : []));
  const dup = [...new Set(kids.filter((k, i) => kids.indexOf(k) !== i))];
  if (dup.length > 0) logger.warn({ ...who, duplicateKids: dup }, 'duplicate kid in key set: each candidate is tried');
}
