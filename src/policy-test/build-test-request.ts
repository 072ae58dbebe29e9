/** A case's request, with its credential where the selected policy looks for one first. */
import type { Snapshot, TokenSource } from '../compile/snapshot.js';
import { normalizeHost } from '../authz/normalize-host.js';
import type { OfflineRequest } from '../commands/offline-decision.js';
import type { TestRequest } from './types.js';

/** The default token source (docs/configuration.md, token sources), for hosts no policy claims. */
const AUTHORIZATION: TokenSource = { type: 'header', header: 'authorization', prefix: 'bearer ' };

/**
 * The credential goes into the first token source of the policy for the request's host
 * (`Authorization: Bearer` unless the policy says otherwise), in addition to request.headers.
 */
export function buildTestRequest(req: TestRequest, credential: string | undefined, snapshot: Snapshot): OfflineRequest {
  const headers = new Map([...req.headers].map(([name, values]) => [name, [...values]]));
  let path = req.path;
  if (credential !== undefined) {
    const source = snapshot.policyForHost(normalizeHost(req.host))?.tokenSources[0] ?? AUTHORIZATION;
    const add = (name: string, value: string) => headers.set(name, [...(headers.get(name) ?? []), value]);
    switch (source.type) {
      case 'header':
        // compiled prefixes are lower case; the scheme compares case-insensitively, so only the spelling differs
        add(source.header.toLowerCase(), `${source.prefix === 'bearer ' ? 'Bearer ' : source.prefix}${credential}`);
        break;
      case 'cookie':
        add('cookie', `${source.cookie}=${credential}`);
        break;
      case 'query':
        path += `${path.includes('?') ? '&' : '?'}${encodeURIComponent(source.query)}=${encodeURIComponent(credential)}`;
        break;
    }
  }
  return { host: req.host, path, method: req.method, headers };
}
