/** The identity-token parts of one process: the watched key directory, the minter, the documents. */
import type { Logger } from '../telemetry/logger.js';
import { identityDocuments, type IdentityDocuments } from './discovery-documents.js';
import { IdentityKeyDirectory } from './key-directory.js';
import { IdentityTokenMinter } from './identity-token-minter.js';

export interface IdentityService {
  minter: IdentityTokenMinter;
  documents: IdentityDocuments;
  stop(): void;
}

export async function startIdentityService(opts: Readonly<{ issuer: string; keyDir: string; signingKid?: string }>, logger: Logger): Promise<IdentityService> {
  const dir = new IdentityKeyDirectory({ dir: opts.keyDir, logger: logger.child({ component: 'identity-keys' }), ...(opts.signingKid !== undefined ? { signingKid: opts.signingKid } : {}) });
  await dir.start();
  const keys = () => dir.current;
  return {
    minter: new IdentityTokenMinter({ issuer: opts.issuer, keys }),
    documents: identityDocuments(opts.issuer, keys),
    stop: () => dir.stop(),
  };
}
