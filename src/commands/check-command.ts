/** `claimcheck check`: one decision without a server, with the full explanation. Exit 0 allow, 1 deny. */
import type { CheckOptions } from '../cli.js';
import { formatProblem } from '../errors.js';
import { KeyRegistry } from '../keys/key-registry.js';
import { silentLogger } from '../telemetry/logger.js';
import { decideOffline, loadSnapshot } from './offline-decision.js';

export async function runCheckCommand(o: Readonly<CheckOptions>, out: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  const loaded = await loadSnapshot(o.configDir, o.namespace);
  if (!loaded.snapshot) {
    for (const p of loaded.problems) out(`error: ${formatProblem(p)}\n`);
    out('decision: DENY (configuration invalid)\n');
    return 1;
  }
  const snapshot = loaded.snapshot;
  const keys = new KeyRegistry({ logger: silentLogger() });
  try {
    keys.sync(snapshot.issuers.values());
    await keys.waitReady(10_000).catch(() => undefined);
    const headers = new Map<string, string[]>();
    for (const [k, v] of o.headers) headers.set(k, [...(headers.get(k) ?? []), v]);
    if (o.token) headers.set('authorization', [...(headers.get('authorization') ?? []), `Bearer ${o.token}`]);
    const { decision: d, plan, wouldDeny } = await decideOffline(
      { host: o.host, path: o.path, method: o.method, headers, ...(o.policy ? { policy: o.policy } : {}) },
      { snapshot, keys, maxTokenBytes: o.maxTokenBytes },
    );
    const keyState = d.verified ? keys.status().find((s) => s.issuer === d.verified!.issuer.key) : undefined;
    if (o.json) {
      const audit = wouldDeny && d.allow ? { auditedDeny: { reason: d.auditedDeny!.reason, error: d.auditedDeny!.kind, httpStatus: wouldDeny.httpStatus } } : {};
      out(JSON.stringify({ allow: d.allow, reason: d.reason, policy: d.policy?.key, rule: d.rule?.name, condition: d.rule?.when, issuer: d.verified?.issuer.key, ...audit, steps: d.steps, keys: keyState, response: plan }, null, 2) + '\n');
    } else {
      for (const s of d.steps) out(`${s.ok ? '  ok ' : ' FAIL'}  ${s.step.padEnd(10)} ${s.detail}\n`);
      if (keyState) out(`       keys       ${keyState.keyCount} key(s), ${keyState.ready ? 'ready' : 'not ready'}${keyState.stale ? ', stale' : ''}${keyState.error ? `, last error: ${keyState.error}` : ''}\n`);
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
