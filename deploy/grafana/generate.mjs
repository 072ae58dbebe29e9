#!/usr/bin/env node
// Generates the Grafana dashboard: deploy/grafana/claimcheck-dashboard.json and its
// copy shipped by the chart (charts/claimcheck/dashboards/claimcheck.json).
//   node deploy/grafana/generate.mjs [--write|--check]
// Every query is scoped to the $namespace and $job variables; the packaging tests parse
// each one with Prometheus's parser and check its metrics against the real /metrics.
import { readFileSync, writeFileSync } from 'node:fs';

const sel = 'namespace=~"$namespace", job=~"$job"';
let id = 0;
const panels = [];
let y = 0;
const ds = { type: 'prometheus', uid: '${datasource}' };
function row(title) { panels.push({ type: 'row', id: ++id, title, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y }, panels: [] }); y += 1; }
function place(w, h, x) { return { h, w, x, y }; }
function ts(title, targets, { unit = 'short', w = 12, x = 0, h = 8, description, stack = false, min } = {}) {
  const p = {
    type: 'timeseries', id: ++id, title, description, datasource: ds, gridPos: place(w, h, x),
    fieldConfig: { defaults: { unit, custom: { drawStyle: 'line', lineWidth: 1, fillOpacity: stack ? 30 : 10, stacking: { mode: stack ? 'normal' : 'none', group: 'A' }, showPoints: 'never' }, ...(min !== undefined ? { min } : {}) }, overrides: [] },
    options: { legend: { displayMode: 'table', placement: 'right', calcs: ['lastNotNull', 'max'] }, tooltip: { mode: 'multi', sort: 'desc' } },
    targets: targets.map(([expr, legendFormat], i) => ({ datasource: ds, expr, legendFormat, refId: String.fromCharCode(65 + i) })),
  };
  if (!description) delete p.description;
  panels.push(p);
}
function stat(title, expr, { unit = 'short', w = 6, x = 0, h = 4, thresholds, description } = {}) {
  const p = {
    type: 'stat', id: ++id, title, description, datasource: ds, gridPos: place(w, h, x),
    fieldConfig: { defaults: { unit, thresholds: { mode: 'absolute', steps: thresholds ?? [{ color: 'green', value: null }] } }, overrides: [] },
    options: { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'value', graphMode: 'area', textMode: 'auto' },
    targets: [{ datasource: ds, expr, refId: 'A' }],
  };
  if (!description) delete p.description;
  panels.push(p);
}

row('Overview');
stat('Ready replicas', `sum(claimcheck_ready{${sel}})`, { x: 0, thresholds: [{ color: 'red', value: null }, { color: 'orange', value: 1 }, { color: 'green', value: 2 }], description: 'Replicas reporting ready (config loaded, first keys fetched). Zero means every request through Envoy is denied.' });
stat('Checks per second', `sum(rate(claimcheck_checks_total{${sel}}[$__rate_interval]))`, { x: 6, unit: 'reqps' });
stat('Denied share', `sum(rate(claimcheck_checks_total{${sel}, decision="deny"}[$__rate_interval])) / sum(rate(claimcheck_checks_total{${sel}}[$__rate_interval]))`, { x: 12, unit: 'percentunit', thresholds: [{ color: 'green', value: null }, { color: 'orange', value: 0.2 }, { color: 'red', value: 0.5 }] });
stat('Config errors', `max(claimcheck_config_errors{${sel}})`, { x: 18, thresholds: [{ color: 'green', value: null }, { color: 'red', value: 1 }], description: 'Problems in the most recent configuration attempt. Non-zero: the last good configuration keeps serving; see the logs or run claimcheck validate.' });
y += 4;

row('Decisions');
ts('Decisions by reason', [[`sum by (decision, reason) (rate(claimcheck_checks_total{${sel}}[$__rate_interval]))`, '{{decision}} / {{reason}}']], { unit: 'reqps', stack: true, x: 0 });
ts('Denials by policy and reason', [[`sum by (policy, reason) (rate(claimcheck_checks_total{${sel}, decision=~"deny|audit_deny"}[$__rate_interval]))`, '{{policy}} / {{reason}}']], { unit: 'reqps', stack: true, x: 12 });
y += 8;
ts('503 denials (failing closed)', [[`sum by (reason) (rate(claimcheck_checks_total{${sel}, decision="deny", reason=~"keys_unavailable|not_ready|internal_error"}[$__rate_interval]))`, '{{reason}}']], { unit: 'reqps', w: 24, description: 'Checks claimcheck could not decide: keys unavailable, not ready, internal error. Users see these as outages.' });
y += 8;

row('Latency');
ts('Check latency percentiles', [0.5, 0.9, 0.99, 0.999].map((q) => [`histogram_quantile(${q}, sum by (le) (rate(claimcheck_check_duration_seconds_bucket{${sel}}[$__rate_interval])))`, `p${q * 100}`]), { unit: 's', x: 0, description: 'Time to decide one Check inside claimcheck (request decoded to response built); Envoy adds the network round trip.' });
ts('p99 latency by decision', [[`histogram_quantile(0.99, sum by (le, decision) (rate(claimcheck_check_duration_seconds_bucket{${sel}}[$__rate_interval])))`, '{{decision}}']], { unit: 's', x: 12 });
y += 8;

row('Keys');
ts('Usable keys per issuer', [[`min by (issuer) (claimcheck_issuer_keys{${sel}})`, '{{issuer}}']], { x: 0, w: 6, min: 0 });
ts('Issuers with keys within maxStaleness', [[`min by (issuer) (claimcheck_issuer_keys_ready{${sel}})`, '{{issuer}}']], { x: 6, w: 6, min: 0, description: '1 while the issuer has keys within its maxStaleness; 0 means its tokens are denied with 503.' });
ts('Key staleness', [[`max by (issuer) (claimcheck_issuer_keys_stale_seconds{${sel}})`, '{{issuer}}']], { unit: 's', x: 12, w: 6, description: 'Seconds since the keys were last confirmed current, while refreshes fail (0 when the latest refresh succeeded). Last good keys are served until the issuer\'s maxStaleness.' });
ts('Key fetches by outcome', [[`sum by (issuer, outcome) (rate(claimcheck_key_fetches_total{${sel}}[$__rate_interval]))`, '{{issuer}} / {{outcome}}']], { unit: 'reqps', x: 18, w: 6 });
y += 8;

row('Configuration and readiness');
ts('Config reloads', [[`sum by (result) (increase(claimcheck_config_reloads_total{${sel}}[$__rate_interval]))`, '{{result}}']], { x: 0, w: 8 });
ts('Config errors and generation', [[`max(claimcheck_config_errors{${sel}})`, 'errors'], [`max(claimcheck_config_generation{${sel}})`, 'generation']], { x: 8, w: 8 });
ts('Ready per pod', [[`max by (pod) (claimcheck_ready{${sel}})`, '{{pod}}']], { x: 16, w: 8, min: 0 });
y += 8;

row('Kubernetes source');
ts('Status writer (Lease holder)', [[`max by (pod) (claimcheck_leader{${sel}})`, '{{pod}}']], { x: 0, w: 8, min: 0, description: 'Exactly one replica should hold the Lease and write status.' });
ts('Watch restarts and relists', [[`sum by (resource) (increase(claimcheck_kubernetes_watch_restarts_total{${sel}}[$__rate_interval]))`, 'restarts {{resource}}'], [`sum by (resource) (increase(claimcheck_kubernetes_relists_total{${sel}}[$__rate_interval]))`, 'relists {{resource}}']], { x: 8, w: 8 });
ts('Rejected objects', [[`max by (kind) (claimcheck_kubernetes_rejected_objects{${sel}})`, '{{kind}}']], { x: 16, w: 8, min: 0, description: 'Resources claimcheck refused (see their status conditions).' });
y += 8;

row('Process');
ts('CPU', [[`sum by (pod) (rate(claimcheck_process_cpu_seconds_total{${sel}}[$__rate_interval]))`, '{{pod}}']], { unit: 'percentunit', x: 0, w: 8 });
ts('Resident memory', [[`max by (pod) (claimcheck_process_resident_memory_bytes{${sel}})`, '{{pod}}']], { unit: 'bytes', x: 8, w: 8 });
ts('Event loop lag p99', [[`max by (pod) (claimcheck_nodejs_eventloop_lag_p99_seconds{${sel}})`, '{{pod}}']], { unit: 's', x: 16, w: 8 });
y += 8;

const dashboard = {
  __inputs: [],
  title: 'claimcheck',
  uid: 'claimcheck-overview',
  description: 'claimcheck ext_authz: decisions, latency, issuer keys, configuration and readiness',
  tags: ['claimcheck', 'envoy', 'ext_authz'],
  timezone: 'browser',
  editable: true,
  graphTooltip: 1,
  schemaVersion: 39,
  version: 1,
  refresh: '30s',
  time: { from: 'now-3h', to: 'now' },
  templating: {
    list: [
      { name: 'datasource', label: 'Data source', type: 'datasource', query: 'prometheus', current: {}, hide: 0, refresh: 1 },
      { name: 'namespace', label: 'Namespace', type: 'query', datasource: ds, query: { query: 'label_values(claimcheck_ready, namespace)', refId: 'ns' }, definition: 'label_values(claimcheck_ready, namespace)', includeAll: true, multi: true, current: {}, refresh: 2, sort: 1, hide: 0 },
      { name: 'job', label: 'Job', type: 'query', datasource: ds, query: { query: 'label_values(claimcheck_ready{namespace=~"$namespace"}, job)', refId: 'job' }, definition: 'label_values(claimcheck_ready{namespace=~"$namespace"}, job)', includeAll: true, multi: true, current: {}, refresh: 2, sort: 1, hide: 0 },
    ],
  },
  annotations: { list: [] },
  panels,
};
const text = JSON.stringify(dashboard, null, 2) + '\n';
const targets = [new URL('./claimcheck-dashboard.json', import.meta.url), new URL('../../charts/claimcheck/dashboards/claimcheck.json', import.meta.url)];
const mode = process.argv[2];
if (mode === '--write') {
  for (const t of targets) writeFileSync(t, text);
} else if (mode === '--check') {
  const stale = targets.filter((t) => readFileSync(t, 'utf8') !== text);
  if (stale.length) {
    process.stderr.write(`stale: ${stale.map((t) => t.pathname).join(', ')}; run node deploy/grafana/generate.mjs --write\n`);
    process.exit(1);
  }
} else {
  process.stdout.write(text);
}
