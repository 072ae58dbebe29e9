/**
 * Header names that alias an identity header. Envoy and Node keep `x-user-id`,
 * `x_user_id` and `x.user.id` apart, but CGI, WSGI, PHP, Rack and nginx's variables
 * read all three as HTTP_X_USER_ID. So a client's `x_user_id: admin` would reach such
 * an upstream as the identity claimcheck vouches for, next to (or instead of) the real
 * one. Such a name is treated as a spoofed copy: removed (Envoy), or refused (forward
 * auth, where the proxy removes nothing claimcheck names).
 */
import type { Snapshot } from '../compile/snapshot.js';

/** the name as those upstreams see it: lowercase, every character but a letter or digit a dash */
export function canonicalHeaderName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '-');
}

// Pseudo-headers (`:path`, `:authority` on every gRPC Check) are Envoy's own and never
// removable, so they are not looked at.
function needsCanonicalForm(name: string): boolean {
  if (name.charCodeAt(0) === 58) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    // a-z, 0-9, '-'; names arrive lowercase from Envoy and the HTTP listener
    if (!((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45)) return true;
  }
  return false;
}

interface EmittedNames {
  lower: ReadonlySet<string>;
  canonical: ReadonlySet<string>;
}
const emittedBySnapshot = new WeakMap<Snapshot, EmittedNames>();

function emittedNames(snapshot: Snapshot): EmittedNames {
  let names = emittedBySnapshot.get(snapshot);
  if (!names) {
    const all = [...snapshot.emittedHeaders];
    names = { lower: new Set(all.map((n) => n.toLowerCase())), canonical: new Set(all.map(canonicalHeaderName)) };
    emittedBySnapshot.set(snapshot, names);
  }
  return names;
}

/**
 * The names among `names` that alias a header of the loaded policies' identity (or one
 * under the reserved prefix) without being it. Undefined when there are none, which is
 * every request that sends only dash-separated names.
 */
export function identityAliases(names: Iterable<string>, snapshot: Snapshot, reservedPrefix: string): string[] | undefined {
  let out: string[] | undefined;
  let emitted: EmittedNames | undefined;
  let prefix: { lower: string; canonical: string } | undefined;
  for (const name of names) {
    if (!needsCanonicalForm(name)) continue;
    emitted ??= emittedNames(snapshot);
    prefix ??= { lower: reservedPrefix.toLowerCase(), canonical: canonicalHeaderName(reservedPrefix) };
    const lower = name.toLowerCase();
    if (emitted.lower.has(lower)) continue;
    const canonical = canonicalHeaderName(name);
    const underPrefix = reservedPrefix !== '' && !lower.startsWith(prefix.lower) && canonical.startsWith(prefix.canonical);
    if (emitted.canonical.has(canonical) || underPrefix) (out ??= []).push(lower);
  }
  return out;
}
