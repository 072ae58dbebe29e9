/** Where the load tool and the peer are: scripts/bench-tools.sh builds them under ~/.cache/claimcheck/. */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const GHZ_VERSION = 'v0.121.0';
export const OPA_VERSION = 'v1.22.3';

function cacheDir(): string {
  return process.env.CLAIMCHECK_CACHE ?? join(homedir(), '.cache', 'claimcheck');
}

export function ghzPath(): string | undefined {
  const p = process.env.BENCH_GHZ ?? join(cacheDir(), `bench-ghz-${GHZ_VERSION}`, 'bin', 'ghz');
  return existsSync(p) ? p : undefined;
}

const PEER_SRC = fileURLToPath(new URL('./peer-opa/', import.meta.url));

/** The peer built from the current sources: the cache directory is keyed like scripts/bench-tools.sh keys it. */
export function peerPath(): string | undefined {
  if (process.env.BENCH_PEER) return existsSync(process.env.BENCH_PEER) ? process.env.BENCH_PEER : undefined;
  const h = createHash('sha256');
  for (const f of ['go.mod', 'go.sum', 'main.go']) h.update(readFileSync(join(PEER_SRC, f)));
  const p = join(cacheDir(), `bench-peer-opa-${OPA_VERSION}-${h.digest('hex').slice(0, 12)}`, 'bin', 'peer-opa');
  return existsSync(p) ? p : undefined;
}
