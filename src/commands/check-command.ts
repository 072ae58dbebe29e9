/** `claimcheck check`: one decision without a server, with the full explanation. */
import type { CheckOptions } from '../cli.js';
import { formatProblem } from '../errors.js';
import { KeyRegistry } from '../keys/key-registry.js';
import type { KeySetStatus } from '../keys/key-set-health.js';
import { silentLogger } from '../telemetry/logger.js';
import { decideOffline, loadSnapshot } from './offline-decision.js';

/** Exit codes: 0 allow, 1 deny, 2 a configuration that does not load (no decision is made). */
export async function runCheckCommand(o: Readonly<CheckOptions>, out: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  const loaded = await loadSnapshot(o.configDir, o.namespace, o.celCostLimit);
  if (!loaded.snapshot) {
    for (const p of loaded.problems) out(`error: ${formatProblem(p)}\n`);
    out(`no decision: the configuration in ${o.configDir} has ${loaded.problems.length} error(s)\n`);
    return 2;
  }
  const snapshot = loaded.snapshot;
  const keys = new KeyRegistry({ logger: silentLogger(), ...o.keyLimits });
  try {
    keys.sync(snapshot.issuers.values());
    await keys.waitReady(o.keyWaitMs).catch(() => undefined);
    const headers = new Map<string, string[]>();
    for (const [k, v] of o.headers) headers.set(k, [...(headers.get(k) ?? []), v]);
    if (o.token) headers.set('authorization', [...(headers.get('authorization') ?? []), `Bearer ${o.token}`]);
    const { decision: d, plan, wouldDeny } = await decideOffline(
      { host: o.host, path: o.path, method: o.method, headers, ...(o.policy ? { policy: o.policy } : {}) },
      { snapshot, keys, maxTokenBytes: o.maxTokenBytes },
    );
    // the verified token's issuer; when no token verified, the issuers the rule would have accepted
    const involved = d.verified ? [d.verified.issuer.key] : (d.rule?.issuers ?? []).map((i) => i.key);
    const keyStates = keys.status().filter((s) => involved.includes(s.issuer));
    if (o.json) {
      const audit = wouldDeny && d.allow ? { auditedDeny: { reason: d.auditedDeny!.reason, error: d.auditedDeny!.kind, httpStatus: wouldDeny.httpStatus } } : {};
      const explained = o.explainKeys ? { issuerKeys: keys.status() } : {};
      const keyState = keyStates.length === 1 ? keyStates[0] : keyStates;
      out(JSON.stringify({ allow: d.allow, reason: d.reason, policy: d.policy?.key, rule: d.rule?.name, condition: d.rule?.when, issuer: d.verified?.issuer.key, ...audit, steps: d.steps, keys: keyState, ...explained, response: plan }, null, 2) + '\n');
    } else {
      for (const s of d.steps) out(`${s.ok ? '  ok ' : ' FAIL'}  ${s.step.padEnd(10)} ${s.detail}\n`);
      for (const k of o.explainKeys ? [] : keyStates) out(`       keys       ${k.issuer}: ${describeKeys(k)}\n`);
      if (o.explainKeys) for (const k of keys.status()) out(`  issuer ${k.issuer}: ${describeKeys(k)}\n`);
      if (plan.kind === 'ok') {
        out(`decision: ALLOW (${d.reason})\n`);
        if (wouldDeny && d.allow) out(`  audit  policy ${d.policy?.key} is in audit mode; enforce mode would DENY ${wouldDeny.httpStatus} (${d.auditedDeny!.reason})\n`);
        for (const h of plan.headersToSet) out(`  set    ${h.name}: ${h.name === 'authorization' ? '[credential]' : h.value}\n`);
        if (plan.headersToRemove.length) out(`  remove ${plan.headersToRemove.join(', ')}\n`);
      } else {
        out(`decision: DENY ${plan.httpStatus} (${d.reason})\n`);
        for (const h of plan.headers) out(`  ${h.name}: ${h.value}\n`);
        out(`  body: ${plan.body}\n`);
      }
    }
    return d.allow ? 0 : 1;
  } finally {
    keys.close();
  }
}

function describeKeys(k: KeySetStatus): string {
  const ids = k.keyIds.length > 0 ? ` [${k.keyIds.join(', ')}]` : '';
  return `${k.state}, ${k.keyCount} key(s)${ids}${k.stale ? ', stale' : ''}${k.error ? `, last error: ${k.error}` : ''}`;
}
