/**
 * The answer cache's key for one HTTP authorization request (pipeline/answer-cache.ts):
 * everything an allow without a CEL condition depends on, read from the raw request
 * before it is parsed into claimcheck's request.
 *
 * - `credential`: the SHA-256 of the values of every header any policy reads a token from
 *   (`cookie` when one reads a cookie; the snapshot's credentialHeaders), so the cache never
 *   holds a credential, as the token cache does not (authn/token-cache.ts);
 * - `rest`: the method and the request target; every header name as sent, in order and
 *   once per line (the reserved prefix, aliases of identity headers and repeated headers
 *   all turn on names alone; a name in another case is another key: a miss, decided in
 *   full); and the values of `host` and of the headers that steer forward auth
 *   (read-authz-request.ts).
 *
 * Other values (x-request-id, user-agent, x-forwarded-for) are not decided on without a
 * condition, so a client that sends the same token again hits whatever they hold.
 * No key when the request holds no credential header (nothing is cached for it), nor
 * when a policy reads a token from the query: the target would hold it.
 * Values are length-prefixed and a header name (an RFC 9110 token) holds neither `:` nor
 * a line feed, so no two requests share a key.
 */
import { sha256Binary } from '../digest.js';
import type { AnswerKey } from '../pipeline/answer-cache.js';
import { STEERING } from './read-authz-request.js';

/** Snapshot.credentialHeaders and Snapshot.queryTokens */
export interface CredentialSources {
  readonly credentialHeaders: ReadonlySet<string>;
  readonly queryTokens: boolean;
}

const STEERS: ReadonlySet<string> = new Set(['host', ...STEERING]);

type Part = 'name' | 'value' | 'credential';

/**
 * How a header goes into the key, found by its length and then a case-insensitive compare:
 * looking a fresh name up in a Set would hash it character by character first, and
 * lowercasing it would copy it, on every header of every request.
 */
type PartTable = ReadonlyMap<number, readonly { lower: string; part: Part }[]>;
let table: PartTable = new Map();
let tableFor: ReadonlySet<string> | undefined;

function partTable(credential: ReadonlySet<string>): PartTable {
  if (credential === tableFor) return table;
  const next = new Map<number, { lower: string; part: Part }[]>();
  const add = (lower: string, part: Part) => next.set(lower.length, [...(next.get(lower.length) ?? []), { lower, part }]);
  for (const name of credential) add(name, 'credential');
  for (const name of STEERS) if (!credential.has(name)) add(name, 'value');
  table = next;
  tableFor = credential;
  return table;
}

function partOf(name: string, table: PartTable): Part {
  const candidates = table.get(name.length);
  if (candidates === undefined) return 'name';
  for (const c of candidates) if (sameLowercase(name, c.lower)) return c.part;
  return 'name';
}

/** `lower` is lowercase ASCII, and as long as `name` */
function sameLowercase(name: string, lower: string): boolean {
  for (let i = 0; i < name.length; i++) {
    let c = name.charCodeAt(i);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}

export function answerKey(method: string, url: string, rawHeaders: readonly string[], sources: CredentialSources): AnswerKey | undefined {
  if (sources.queryTokens) return undefined;
  let rest = `${method} ${url}`;
  const parts = partTable(sources.credentialHeaders);
  let credential: string | undefined;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const part = partOf(name, parts);
    rest += `\n${name}`;
    if (part === 'name') continue;
    const value = rawHeaders[i + 1]!;
    if (part === 'value') rest += `:${value.length}:${value}`;
    // the usual request has one: its value as is, hashed without a copy
    else credential = credential === undefined ? value : `${credential}\n${value.length}:${value}`;
  }
  return credential === undefined ? undefined : { credential: sha256Binary(credential), rest };
}
