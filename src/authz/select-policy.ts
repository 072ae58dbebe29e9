/**
 * Which policy a request falls under: the `claimcheck.io/policy` context extension wins,
 * then the normalised host (docs/configuration.md "Hosts").
 */
import type { CompiledPolicy, Snapshot } from '../compile/snapshot.js';
import type { Step } from '../decision.js';
import type { AuthRequest } from '../request.js';
import { normalizeHost } from './normalize-host.js';

export const POLICY_EXTENSION = 'claimcheck.io/policy';

export type PolicySelection =
  | { kind: 'policy'; policy: CompiledPolicy }
  | { kind: 'none' }
  /** the context extension names a policy that does not exist */
  | { kind: 'missing-named' }
  /** the Host is not a host name (normalizeHost answered '') */
  | { kind: 'invalid-host' };

/** The selection, and the request's host normalised once for everything after it. */
export function selectPolicy(req: AuthRequest, snapshot: Snapshot, steps: Step[] | undefined): { selection: PolicySelection; host: string } {
  const host = normalizeHost(req.host);
  const named = req.contextExtensions[POLICY_EXTENSION];
  if (named !== undefined && named !== '') {
    const p = snapshot.policies.get(named);
    steps?.push({ step: 'policy', ok: !!p, detail: p ? `${p.key} (context extension)` : `context extension names unknown policy ${named}` });
    return { selection: p ? { kind: 'policy', policy: p } : { kind: 'missing-named' }, host };
  }
  if (host === '' && req.host !== '') {
    steps?.push({ step: 'policy', ok: false, detail: 'the host is not a host name (length, label length, or a character outside printable ASCII)' });
    return { selection: { kind: 'invalid-host' }, host };
  }
  const p = snapshot.policyForHost(host);
  steps?.push({ step: 'policy', ok: !!p, detail: p ? `${p.key} (host ${host})` : `no policy for host ${host}` });
  return { selection: p ? { kind: 'policy', policy: p } : { kind: 'none' }, host };
}
