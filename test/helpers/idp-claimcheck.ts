/** A claimcheck process that trusts an oidc-provider by discovery (its test CA pinned) with one AuthPolicy: the interop tests' setup. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startClaimcheck, type ClaimcheckProcess } from './claimcheck-process.js';
import { createEnvoyClient, type EnvoyClient } from './envoy-client.js';
import type { OidcIdp } from './oidc-idp.js';
import type { TestCa } from './test-ca.js';

export interface IdpClaimcheck {
  envoy: EnvoyClient;
  cc: ClaimcheckProcess;
  close(): Promise<void>;
}

/**
 * The TrustedIssuer is named `oidc-provider` (RS256, RFC 9068 `at+jwt`), with `more.issuer` over
 * its spec; `policy` is an AuthPolicy spec naming it; `more.files` are written beside the config.
 */
export async function claimcheckTrustingIdp(idp: OidcIdp, ca: TestCa, audience: string, policy: Record<string, unknown>, more: { issuer?: Record<string, unknown>; files?: Record<string, string> } = {}): Promise<IdpClaimcheck> {
  const dir = await mkdtemp(join(tmpdir(), 'claimcheck-idp-interop-'));
  for (const [name, content] of Object.entries(more.files ?? {})) await writeFile(join(dir, name), content);
  await writeFile(join(dir, 'config.yaml'), [
    {
      apiVersion: 'claimcheck.io/v1alpha1', kind: 'TrustedIssuer', metadata: { name: 'oidc-provider' },
      spec: { issuer: idp.issuer, jwks: { discovery: true, caBundle: ca.caCert }, audiences: [audience], algorithms: ['RS256'], tokenTypes: ['at+jwt'], ...more.issuer },
    },
    { apiVersion: 'claimcheck.io/v1alpha1', kind: 'AuthPolicy', metadata: { name: 'payments' }, spec: policy },
  ].map((d) => stringify(d)).join('---\n'));
  const cc = await startClaimcheck({ configDir: dir, args: ['--workers', '1'] });
  const envoy = createEnvoyClient(cc.grpcAddress);
  return {
    envoy,
    cc,
    close: async () => {
      envoy.close();
      await cc.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
