/**
 * Rule path patterns (docs/configuration.md "Paths"): `*` is exactly one non-empty segment, `**` is
 * zero or more segments, everything else is literal and case-sensitive.
 *
 * Decisions:
 * - A pattern must start with `/`. `*` and `**` are only allowed as whole
 *   segments (`/v1/foo*` is an error, not a prefix match), so a pattern never
 *   means something the author did not spell out.
 * - `?` and `#` are errors: the query string is never part of the path.
 * - The pattern is normalised like a request path (unreserved escapes
 *   decoded, repeated slashes merged, `.` dropped), and a pattern that a
 *   request path could never equal (`..`, encoded slash, backslash) is an error.
 * - A trailing slash is significant for literals (`/a` does not match `/a/`),
 *   as in Envoy's `path` matcher; `/v1/**` matches `/v1`, `/v1/` and below.
 */
import { ClaimcheckError } from '../errors.js';
import { normalizePath } from './normalize-path.js';

type PathMatcher = (normalizedPath: string) => boolean;

const ANY = 0; // `*`
const ANY_DEEP = 1; // `**`
type Segment = string | typeof ANY | typeof ANY_DEEP;

export function compilePathGlob(pattern: string): PathMatcher {
  if (typeof pattern !== 'string' || !pattern.startsWith('/')) {
    throw new ClaimcheckError('invalid_path_pattern', `path pattern ${JSON.stringify(pattern)} must start with "/"`);
  }
  if (pattern.includes('?') || pattern.includes('#')) {
    throw new ClaimcheckError('invalid_path_pattern', `path pattern ${JSON.stringify(pattern)} must not contain "?" or "#"`);
  }
  const n = normalizePath(pattern);
  if (!n.ok) {
    throw new ClaimcheckError('invalid_path_pattern', `path pattern ${JSON.stringify(pattern)} is not a valid path (${n.reason})`);
  }
  const segments: Segment[] = splitSegments(n.path).map((s) => {
    if (s === '*') return ANY;
    if (s === '**') return ANY_DEEP;
    if (s.includes('*')) {
      throw new ClaimcheckError(
        'invalid_path_pattern',
        `path pattern ${JSON.stringify(pattern)}: "*" and "**" must be whole segments`,
      );
    }
    return s;
  });

  if (segments.every((s) => typeof s === 'string')) {
    const literal = n.path;
    return (path) => path === literal;
  }
  // `/prefix/**` (the common shape) needs no splitting: the prefix itself, or anything below it.
  const deepAt = segments.indexOf(ANY_DEEP);
  if (deepAt === segments.length - 1 && segments.slice(0, deepAt).every((seg) => typeof seg === 'string')) {
    const prefix = deepAt === 0 ? '' : `/${segments.slice(0, deepAt).join('/')}`;
    const below = `${prefix}/`;
    return (path) => path === prefix || path.startsWith(below);
  }
  if (deepAt === -1) {
    const count = segments.length;
    return (path) => {
      const parts = splitSegments(path);
      if (parts.length !== count) return false;
      for (let i = 0; i < count; i++) if (!segmentMatches(segments[i], parts[i])) return false;
      return true;
    };
  }
  return (path) => matchWithDeep(segments, splitSegments(path));
}

/** `/` → [''], `/a` → ['a'], `/a/` → ['a', ''] (the trailing slash is an empty last segment). */
function splitSegments(path: string): string[] {
  return path.slice(1).split('/');
}

function segmentMatches(seg: Segment, part: string): boolean {
  if (seg === ANY) return part !== '';
  return seg === part;
}

/**
 * Classic wildcard matching with a single backtrack point: O(segments × parts)
 * worst case, no recursion, no regex.
 */
function matchWithDeep(segs: readonly Segment[], parts: readonly string[]): boolean {
  let s = 0;
  let p = 0;
  let starS = -1;
  let starP = 0;
  while (p < parts.length) {
    if (s < segs.length && segs[s] === ANY_DEEP) {
      starS = s++;
      starP = p;
    } else if (s < segs.length && segmentMatches(segs[s], parts[p])) {
      s++;
      p++;
    } else if (starS !== -1) {
      s = starS + 1;
      p = ++starP;
    } else {
      return false;
    }
  }
  while (s < segs.length && segs[s] === ANY_DEEP) s++;
  return s === segs.length;
}
