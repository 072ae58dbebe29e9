/**
 * Where the Kubernetes test binaries are, building them on first use through
 * scripts/k8s-tools.sh (once per version, cached under ~/.cache/claimcheck/).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
const TOOLS_SCRIPT = join(REPO, 'scripts/k8s-tools.sh');

export interface K8sToolPaths {
  binDir: string;
  etcd: string;
  kubeApiserver: string;
  kubectl: string;
}

function cachedBinDir(): string {
  const r = spawnSync('bash', [TOOLS_SCRIPT, '--dir'], { encoding: 'utf8' });
  return r.stdout.trim();
}

function pathsIn(binDir: string): K8sToolPaths {
  return { binDir, etcd: join(binDir, 'etcd'), kubeApiserver: join(binDir, 'kube-apiserver'), kubectl: join(binDir, 'kubectl') };
}

function allPresent(p: K8sToolPaths): boolean {
  return existsSync(p.etcd) && existsSync(p.kubeApiserver) && existsSync(p.kubectl);
}

/** Why the Kubernetes suite cannot run here, or undefined when it can (binaries cached, or Go present to build them). */
export function k8sSkipReason(): string | undefined {
  if (process.platform !== 'linux' && process.platform !== 'darwin') return `the Kubernetes suite needs Linux or macOS (this is ${process.platform})`;
  if (spawnSync('bash', ['-c', 'command -v flock'], { encoding: 'utf8' }).status !== 0) return 'the Kubernetes suite needs flock (util-linux)';
  if (allPresent(pathsIn(cachedBinDir()))) return undefined;
  if (spawnSync('go', ['version'], { encoding: 'utf8' }).status !== 0) {
    return 'Go is not installed, so etcd/kube-apiserver/kubectl cannot be built (install Go >= 1.24 or run scripts/k8s-tools.sh elsewhere)';
  }
  return undefined;
}

let tools: K8sToolPaths | undefined;

/**
 * Paths of etcd, kube-apiserver and kubectl; builds them on first use (minutes, once per
 * version; progress goes to stderr). Throws when the build fails.
 */
export function k8sToolPaths(): K8sToolPaths {
  if (tools) return tools;
  const quick = pathsIn(cachedBinDir());
  if (allPresent(quick)) return (tools = quick);
  process.stderr.write('# building etcd, kube-apiserver and kubectl once (cached afterwards); see scripts/k8s-tools.sh\n');
  const r = spawnSync('bash', [TOOLS_SCRIPT], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error(`scripts/k8s-tools.sh failed with exit code ${r.status}`);
  const built = pathsIn(r.stdout.trim().split('\n').pop()!);
  if (!allPresent(built)) throw new Error(`scripts/k8s-tools.sh did not produce the binaries in ${built.binDir}`);
  return (tools = built);
}

