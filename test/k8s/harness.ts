/**
 * A real etcd + kube-apiserver for tests, envtest-style: no kubelet, no controller-manager.
 * Binaries come from scripts/k8s-tools.sh (built once from the Go module proxy, cached
 * under ~/.cache/claimcheck/). Shared with the Helm chart tests: keep the exported
 * signatures stable.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, openSync, closeSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestCa } from '../helpers/test-ca.js';
import { freePort } from '../helpers/free-port.js';
import { kubeRequest, type KubeResponse } from './kube-request.js';
import { k8sToolPaths } from './k8s-tools.js';

export { REPO, k8sSkipReason, k8sToolPaths, type K8sToolPaths } from './k8s-tools.js';

export { freePort };

async function until(what: string, fn: () => Promise<boolean>, timeoutMs: number, isDead?: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const dead = isDead?.();
    if (dead) throw new Error(`${what}: ${dead}`);
    if (await fn().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what}: not ready within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Proc {
  child: ChildProcess;
  exited: Promise<void>;
  logFile: string;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

function startProc(bin: string, args: string[], logFile: string): Proc {
  const fd = openSync(logFile, 'a');
  const child = spawn(bin, args, { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  running.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => { running.delete(child); resolve(); }));
  return { child, exited, logFile };
}

async function stopProc(p: Proc | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill(signal);
  const t = setTimeout(() => p.child.kill('SIGKILL'), 10_000);
  await p.exited;
  clearTimeout(t);
}

function deadReason(p: Proc | undefined): string | undefined {
  if (!p) return 'not started';
  if (p.child.exitCode !== null || p.child.signalCode !== null) return `exited (${p.child.exitCode ?? p.child.signalCode}); log: ${p.logFile}`;
  return undefined;
}

export interface KubeApiserverOptions {
  /** extra kube-apiserver flags, e.g. ['--watch-cache=false'] */
  extraArgs?: string[];
}

export interface ApiserverInstance {
  /** https://127.0.0.1:PORT */
  server: string;
  /** an admin kubeconfig (token in system:masters) for this instance */
  kubeconfigPath: string;
  /** stops this instance (SIGKILL when `hard`); the others and etcd keep running */
  kill(hard?: boolean): Promise<void>;
  /** starts it again on the same port with the same flags; resolves when /readyz is ok */
  start(): Promise<void>;
  /** admin request to this instance; JSON bodies; `contentType` for patches */
  request(method: string, path: string, body?: unknown, contentType?: string): Promise<KubeResponse>;
}

export interface KubeApiserver extends ApiserverInstance {
  kubectlPath: string;
  adminToken: string;
  /** PEM of the CA that signed the serving certificate */
  caCert: string;
  /** etcd client URL (its gRPC gateway serves /v3/kv/compaction etc.) */
  etcdUrl: string;
  /** a temp directory removed by stop() */
  dir: string;
  /** kill + start */
  restart(): Promise<void>;
  /** kills everything and removes the temp directory */
  stop(): Promise<void>;
  /** runs kubectl with the admin kubeconfig (or `kubeconfig`); never rejects */
  kubectl(args: string[], opts?: { input?: string; kubeconfig?: string }): Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** a second kube-apiserver on the same etcd (an HA control plane) */
  addApiserver(): Promise<ApiserverInstance>;
  /** writes a kubeconfig for `token` against `server` (default: this instance) */
  writeKubeconfig(name: string, token: string, server?: string): string;
}

export async function startKubeApiserver(opts: KubeApiserverOptions = {}): Promise<KubeApiserver> {
  const paths = k8sToolPaths();
  const dir = mkdtempSync(join(tmpdir(), 'claimcheck-k8s-'));
  const adminToken = `admin-${Math.random().toString(36).slice(2)}`;
  const ca = createTestCa('claimcheck kube-apiserver test CA');
  const f = (name: string, content: string) => {
    const p = join(dir, name);
    writeFileSync(p, content, { mode: 0o600 });
    return p;
  };
  const certFile = f('apiserver.crt', ca.serverCert + ca.caCert);
  const keyFile = f('apiserver.key', ca.serverKey);
  const sa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const saPub = f('sa.pub', sa.publicKey.export({ type: 'spki', format: 'pem' }).toString());
  const saKey = f('sa.key', sa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  const tokens = f('tokens.csv', `${adminToken},admin,admin-uid,"system:masters"\n`);

  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const etcdUrl = `http://127.0.0.1:${clientPort}`;
  const etcd = startProc(paths.etcd, [
    '--name', 'default',
    '--data-dir', join(dir, 'etcd'),
    '--listen-client-urls', etcdUrl, '--advertise-client-urls', etcdUrl,
    '--listen-peer-urls', `http://127.0.0.1:${peerPort}`,
    '--initial-advertise-peer-urls', `http://127.0.0.1:${peerPort}`,
    '--initial-cluster', `default=http://127.0.0.1:${peerPort}`,
    '--unsafe-no-fsync', '--log-level', 'warn',
  ], join(dir, 'etcd.log'));
  await until('etcd', async () => {
    const res = await fetch(`${etcdUrl}/health`);
    return res.ok && ((await res.json()) as { health?: string }).health === 'true';
  }, 30_000, () => deadReason(etcd));

  const request = (server: string, method: string, path: string, body?: unknown, contentType?: string) =>
    kubeRequest({ server, token: adminToken, ca: ca.caCert }, method, path, body, contentType);

  const writeKubeconfig = (name: string, token: string, server: string): string =>
    f(`${name}.kubeconfig`, JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'test', cluster: { server, 'certificate-authority-data': Buffer.from(ca.caCert).toString('base64') } }],
      users: [{ name, user: { token } }],
      contexts: [{ name: 'test', context: { cluster: 'test', user: name } }],
      'current-context': 'test',
    }, null, 2));

  let instances = 0;
  const makeInstance = async (): Promise<ApiserverInstance> => {
    const n = instances++;
    const port = await freePort();
    const server = `https://127.0.0.1:${port}`;
    const args = [
      '--etcd-servers', etcdUrl,
      '--bind-address', '127.0.0.1', '--advertise-address', '127.0.0.1', '--secure-port', String(port),
      '--tls-cert-file', certFile, '--tls-private-key-file', keyFile,
      '--cert-dir', join(dir, `certs-${n}`),
      '--token-auth-file', tokens,
      '--authorization-mode', 'RBAC',
      '--service-account-issuer', 'https://kubernetes.default.svc.cluster.local',
      '--service-account-key-file', saPub, '--service-account-signing-key-file', saKey,
      '--service-cluster-ip-range', '10.0.0.0/24',
      '--enable-priority-and-fairness=false',
      '--endpoint-reconciler-type', 'none',
      '--profiling=false',
      '--v', '1',
      ...(opts.extraArgs ?? []),
    ];
    let proc: Proc | undefined;
    const start = async () => {
      proc = startProc(paths.kubeApiserver, args, join(dir, `kube-apiserver-${n}.log`));
      await until(`kube-apiserver ${server}`, async () => (await request(server, 'GET', '/readyz')).status === 200, 90_000, () => deadReason(proc));
    };
    await start();
    return {
      server,
      kubeconfigPath: writeKubeconfig(`admin-${n}`, adminToken, server),
      kill: (hard = false) => stopProc(proc, hard ? 'SIGKILL' : 'SIGTERM'),
      start,
      request: (method, path, body, contentType) => request(server, method, path, body, contentType),
    };
  };

  let main: ApiserverInstance;
  const extra: ApiserverInstance[] = [];
  try {
    main = await makeInstance();
  } catch (err) {
    await stopProc(etcd);
    throw err;
  }

  const kubectl: KubeApiserver['kubectl'] = (args, o = {}) =>
    new Promise((resolve) => {
      const child = spawn(paths.kubectl, ['--kubeconfig', o.kubeconfig ?? main.kubeconfigPath, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => { stdout += String(d); });
      child.stderr.on('data', (d) => { stderr += String(d); });
      child.on('close', (code) => resolve({ code, stdout, stderr }));
      child.stdin.end(o.input ?? '');
    });

  return {
    ...main,
    kubectlPath: paths.kubectl,
    adminToken,
    caCert: ca.caCert,
    etcdUrl,
    dir,
    restart: async () => {
      await main.kill();
      await main.start();
    },
    stop: async () => {
      await Promise.all([main, ...extra].map((i) => i.kill()));
      await stopProc(etcd);
      rmSync(dir, { recursive: true, force: true });
    },
    kubectl,
    addApiserver: async () => {
      const i = await makeInstance();
      extra.push(i);
      return i;
    },
    writeKubeconfig: (name, token, server = main.server) => writeKubeconfig(name, token, server),
  };
}
