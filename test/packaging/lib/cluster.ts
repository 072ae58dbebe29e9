/** Small additions to test/k8s/ for the packaging tests: idempotent namespaces, third-party CRDs. */
import { join } from 'node:path';
import type { KubeApiserver } from '../../k8s/harness.js';
import { thirdPartyDir } from './tools.js';

export async function ensureNamespace(api: KubeApiserver, name: string): Promise<void> {
  const r = await api.request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  if (r.status !== 201 && r.status !== 409) throw new Error(`namespace ${name}: ${r.status} ${JSON.stringify(r.body)}`);
}

/** Applies CRD files from scripts/third-party-crds.sh's directory and waits until they are Established. */
export async function applyThirdPartyCrds(api: KubeApiserver, files: string[]): Promise<void> {
  const dir = thirdPartyDir();
  for (const f of files) {
    const r = await api.kubectl(['apply', '--server-side', '--force-conflicts', '-f', join(dir, f)]);
    if (r.code !== 0) throw new Error(`kubectl apply ${f}: ${r.stderr}`);
    const names = r.stdout.split('\n').map((l) => /^(customresourcedefinition\.apiextensions\.k8s\.io\/\S+)/.exec(l)?.[1]).filter((n): n is string => !!n);
    if (names.length === 0) throw new Error(`${f} applied no CRD:\n${r.stdout}`);
    const w = await api.kubectl(['wait', '--for=condition=Established', '--timeout=60s', ...names]);
    if (w.code !== 0) throw new Error(`CRDs of ${f} not established: ${w.stderr}`);
  }
}
