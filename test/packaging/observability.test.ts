/**
 * The Grafana dashboard and the PrometheusRule alerts: every query parses with
 * Prometheus's own PromQL parser (scripts/promql-tool.sh) and names only metrics the
 * real server exports.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, startClaimcheck, type ClaimcheckProcess } from '../helpers/claimcheck-process.js';
import { createEnvoyClient } from '../helpers/envoy-client.js';
import { CHART, ciValues, helmSkipReason, template } from './lib/tools.js';
import { skipFor } from '../helpers/skip.js';

const DASHBOARD = join(REPO, 'deploy/grafana/claimcheck-dashboard.json');
const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8'));

function panels(): any[] {
  return dashboard.panels.flatMap((p: any) => [p, ...(p.panels ?? [])]).filter((p: any) => p.type !== 'row');
}

function dashboardQueries(): { name: string; expr: string }[] {
  return panels().flatMap((p) => p.targets.map((t: any) => ({ name: `panel "${p.title}" ${t.refId}`, expr: t.expr as string })));
}

/** Grafana variables replaced by what Grafana sends to Prometheus. */
function asPromQL(expr: string): string {
  return expr.replaceAll('$__rate_interval', '1m').replaceAll('$namespace', '.*').replaceAll('$job', '.*');
}

function alertQueries(): { name: string; expr: string }[] {
  const rule = template({ values: [ciValues('ha-values.yaml')] }).find((d) => d.kind === 'PrometheusRule')!;
  return rule.spec.groups.flatMap((g: any) => g.rules.map((r: any) => ({ name: `alert ${r.alert}`, expr: r.expr as string })));
}

const metricNames = (expr: string) => [...expr.matchAll(/\bclaimcheck_[a-z0-9_]+/g)].map((m) => m[0]);

describe('Grafana dashboard', () => {
  test('both copies (deploy/grafana/ and the chart\'s) are what deploy/grafana/generate.mjs generates', () => {
    assert.equal(readFileSync(join(CHART, 'dashboards/claimcheck.json'), 'utf8'), readFileSync(DASHBOARD, 'utf8'));
    const r = spawnSync(process.execPath, [join(REPO, 'deploy/grafana/generate.mjs'), '--check'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });

  test('is importable: unique panel ids, non-overlapping grid, a Prometheus data source variable, every query scoped to $namespace and $job', () => {
    const ids = dashboard.panels.map((p: any) => p.id);
    assert.equal(new Set(ids).size, ids.length);
    assert.equal(dashboard.uid, 'claimcheck-overview');
    assert.ok(dashboard.templating.list.some((v: any) => v.type === 'datasource' && v.query === 'prometheus'));
    const cells = new Set<string>();
    for (const p of dashboard.panels) {
      const { x, y, w, h } = p.gridPos;
      assert.ok(x + w <= 24, `${p.title} is wider than the grid`);
      for (let i = x; i < x + w; i++) for (let j = y; j < y + h; j++) {
        assert.ok(!cells.has(`${i},${j}`), `${p.title} overlaps another panel at ${i},${j}`);
        cells.add(`${i},${j}`);
      }
    }
    for (const q of dashboardQueries()) assert.match(q.expr, /namespace=~"\$namespace", job=~"\$job"/, q.name);
  });

  test('covers decisions by reason, latency percentiles, key-set health and staleness, config reload errors and readiness', () => {
    const all = dashboardQueries().map((q) => q.expr).join('\n');
    assert.match(all, /sum by \(decision, reason\) \(rate\(claimcheck_checks_total/);
    assert.match(all, /histogram_quantile\(0\.99, sum by \(le\) \(rate\(claimcheck_check_duration_seconds_bucket/);
    assert.match(all, /claimcheck_issuer_keys\{/);
    assert.match(all, /claimcheck_issuer_keys_ready\{/);
    assert.match(all, /max by \(issuer\) \(claimcheck_issuer_keys_stale_seconds/);
    assert.match(all, /claimcheck_config_reloads_total/);
    assert.match(all, /claimcheck_ready/);
  });
});

const helmSkip = skipFor('alert rule checks', helmSkipReason());
const promqlSkip = skipFor('PromQL parsing', process.platform === 'win32' ? 'needs bash' : spawnSync('go', ['version']).status !== 0 && spawnSync('bash', ['-c', 'ls ~/.cache/claimcheck/promql-*/bin/promql-parse']).status !== 0 ? 'Go is not installed, so the PromQL parser cannot be built (scripts/promql-tool.sh)' : undefined);

describe('queries against Prometheus\'s parser and the real /metrics', () => {
  let server: ClaimcheckProcess;
  let exported: Map<string, string>;
  before(async () => {
    server = await startClaimcheck({ configDir: join(REPO, 'examples') });
    const client = createEnvoyClient(server.grpcAddress);
    await client.check({ host: 'localhost', path: '/api/orders' });
    client.close();
    const text = (await server.http('/metrics')).body;
    exported = new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
  });
  after(async () => {
    await server?.stop();
  });

  const isExported = (name: string) => {
    if (exported.has(name)) return true;
    const base = name.replace(/_(bucket|sum|count)$/, '');
    return base !== name && ['histogram', 'summary'].includes(exported.get(base) ?? '');
  };

  test('every metric the dashboard queries is exported by the running server', () => {
    for (const q of dashboardQueries()) for (const m of metricNames(q.expr)) assert.ok(isExported(m), `${q.name}: ${m} is not exported`);
  });

  test('every metric the alerts query is exported by the running server', { skip: helmSkip }, () => {
    const queries = alertQueries();
    assert.ok(queries.length >= 6);
    for (const q of queries) for (const m of metricNames(q.expr)) assert.ok(isExported(m), `${q.name}: ${m} is not exported`);
  });

  test('every dashboard and alert query parses with Prometheus\'s PromQL parser', { skip: promqlSkip || helmSkip }, () => {
    const tool = spawnSync('bash', [join(REPO, 'scripts/promql-tool.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    assert.equal(tool.status, 0, 'scripts/promql-tool.sh failed');
    const bin = tool.stdout.trim().split('\n').pop()!;
    const queries = [...dashboardQueries().map((q) => ({ ...q, expr: asPromQL(q.expr) })), ...alertQueries()];
    const broken = [...queries, { name: 'control: a broken query', expr: 'sum(rate(claimcheck_checks_total[5m])' }];
    const r = spawnSync(bin, [], { input: JSON.stringify(broken), encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const results: { name: string; error: string }[] = JSON.parse(r.stdout);
    assert.notEqual(results.at(-1)!.error, '', 'the parser must reject the control query');
    assert.deepEqual(results.slice(0, -1).filter((x) => x.error), []);
  });
});
