/**
 * The real tools the packaging tests drive: helm (built by scripts/helm-tool.sh) and
 * the third-party CRDs / protos (scripts/third-party-crds.sh), both from the Go module
 * proxy and cached under ~/.cache/claimcheck/.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { REPO } from '../../helpers/claimcheck-process.js';

export const CHART = join(REPO, 'charts/claimcheck');

function goMissing(): boolean {
  return spawnSync('go', ['version'], { encoding: 'utf8' }).status !== 0;
}

function cached(script: string, probe: (out: string) => boolean): string {
  // The scripts print the cached path at once when it exists; otherwise they build.
  const r = spawnSync('bash', [join(REPO, script)], { encoding: 'utf8', env: { ...process.env }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 0 });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status === 0 && probe(last)) return last;
  throw new Error(`${script} failed (exit ${r.status}):\n${r.stderr.slice(-3000)}`);
}

let helmBin: string | undefined;

/** Why helm cannot be used here, or undefined. */
export function helmSkipReason(): string | undefined {
  if (process.platform === 'win32') return 'the packaging suite needs bash (Linux or macOS)';
  if (helmBin) return undefined;
  const home = process.env.CLAIMCHECK_CACHE ?? join(process.env.HOME ?? '', '.cache/claimcheck');
  if (existsSync(home) && spawnSync('bash', ['-c', `ls "${home}"/helm-*/bin/.built`], { encoding: 'utf8' }).status === 0) return undefined;
  if (goMissing()) return 'Go is not installed, so helm cannot be built (scripts/helm-tool.sh needs Go >= 1.24)';
  return undefined;
}

/** The helm binary; the first call may build it (minutes, once; progress on stderr). */
export function helmPath(): string {
  if (!helmBin) {
    process.stderr.write('# helm: scripts/helm-tool.sh (builds helm once from the Go module proxy, cached afterwards)\n');
    helmBin = cached('scripts/helm-tool.sh', (p) => existsSync(p));
  }
  return helmBin;
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function helm(args: string[]): Run {
  const r = spawnSync(helmPath(), args, { encoding: 'utf8', env: { ...process.env, HELM_CACHE_HOME: join(tmpdir(), 'claimcheck-helm-cache'), HELM_CONFIG_HOME: join(tmpdir(), 'claimcheck-helm-config'), HELM_DATA_HOME: join(tmpdir(), 'claimcheck-helm-data') } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export interface RenderOptions {
  values?: string[];
  set?: string[];
  /** --set-file KEY=PATH */
  setFile?: string[];
  namespace?: string;
  release?: string;
}

/** `helm template` with `args` must fail on the chart's values schema; helm's stderr, to match the field against. */
export function schemaRejection(args: string[]): string {
  const r = helm(['template', 'claimcheck', CHART, ...args]);
  assert.notEqual(r.code, 0, `helm accepted ${args.join(' ')}`);
  assert.match(r.stderr, /values don't meet the specifications of the schema/);
  return r.stderr;
}

/** `helm template`, returning the raw YAML; throws with helm's message on failure. */
export function templateRaw(o: RenderOptions = {}): string {
  const args = ['template', o.release ?? 'claimcheck', CHART, '--namespace', o.namespace ?? 'claimcheck-system'];
  for (const v of o.values ?? []) args.push('--values', v);
  for (const s of o.set ?? []) args.push('--set', s);
  for (const s of o.setFile ?? []) args.push('--set-file', s);
  const r = helm(args);
  if (r.code !== 0) throw new Error(`helm template failed:\n${r.stderr}`);
  return r.stdout;
}

export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; [k: string]: any }; [k: string]: any };

export function parseDocs(text: string): K8sObject[] {
  return YAML.parseAllDocuments(text)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((d): d is K8sObject => d !== null && typeof d === 'object');
}

export function template(o: RenderOptions = {}): K8sObject[] {
  return parseDocs(templateRaw(o));
}

export function ciValues(name: string): string {
  return join(CHART, 'ci', name);
}

/** Writes values to a temp file (for negative tests that need a whole values file). */
export function valuesFile(values: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'claimcheck-values-'));
  const p = join(dir, 'values.yaml');
  writeFileSync(p, YAML.stringify(values));
  return p;
}

let thirdParty: string | undefined;

/** Why the Istio / Envoy Gateway / Prometheus Operator CRDs cannot be had, or undefined. */
export function thirdPartySkipReason(): string | undefined {
  if (process.platform === 'win32') return 'needs bash';
  if (thirdParty) return undefined;
  const home = process.env.CLAIMCHECK_CACHE ?? join(process.env.HOME ?? '', '.cache/claimcheck');
  if (spawnSync('bash', ['-c', `ls "${home}"/third-party-crds-*/.done`], { encoding: 'utf8' }).status === 0) return undefined;
  if (goMissing()) return 'Go is not installed, so the Istio / Envoy Gateway / Prometheus Operator modules cannot be downloaded (scripts/third-party-crds.sh)';
  return undefined;
}

/** Directory with istio-api/, envoy-gateway/, prometheus-operator/ (scripts/third-party-crds.sh). */
export function thirdPartyDir(): string {
  thirdParty ??= cached('scripts/third-party-crds.sh', (p) => existsSync(join(p, '.done')));
  return thirdParty;
}

export const THIRD_PARTY_CRDS = {
  istio: 'istio-api/kubernetes/customresourcedefinitions.gen.yaml',
  gatewayApi: 'envoy-gateway/charts/gateway-helm/charts/crds/crds/gatewayapi-crds.yaml',
  envoyGatewaySecurityPolicy: 'envoy-gateway/charts/gateway-helm/charts/crds/crds/generated/gateway.envoyproxy.io_securitypolicies.yaml',
  serviceMonitor: 'prometheus-operator/example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml',
  prometheusRule: 'prometheus-operator/example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml',
  traefik: 'traefik/docs/content/reference/dynamic-configuration/kubernetes-crd-definition-v1.yml',
} as const;
