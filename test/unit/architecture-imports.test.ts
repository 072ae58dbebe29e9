/**
 * The layers of docs/architecture.md, enforced: each room of src/ may import only the
 * rooms listed for it, and each third-party package is confined to its room.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { REPO } from '../helpers/claimcheck-process.js';

const SRC = join(REPO, 'src');
const ANY = '*';

/** room → the rooms it may import (besides itself); top-level files are rooms of their own name */
export const MAY_IMPORT: Record<string, readonly string[] | typeof ANY> = {
  errors: [],
  'host-port': [],
  'listen-address': ['errors', 'host-port'],
  'maybe-async': [],
  digest: [],
  request: [],
  // google.rpc.Code values: the one table of gRPC status codes
  'grpc-code': [],
  // the one table of reasons; type-only imports of the kinds and the path reasons
  reasons: ['authz', 'decision'],
  model: ['errors'],
  authz: ['compile', 'decision', 'errors', 'model', 'request'],
  compile: ['authz', 'errors', 'model'],
  decision: ['compile', 'authn', 'reasons'],
  authn: ['compile', 'decision', 'digest', 'errors', 'maybe-async', 'reasons'],
  // identity: the JWS signer and key reader, for private_key_jwt client assertions
  keys: ['authn', 'compile', 'digest', 'errors', 'identity', 'maybe-async', 'model', 'telemetry'],
  respond: ['authz', 'compile', 'decision', 'errors', 'grpc-code', 'reasons'],
  pipeline: ['authn', 'authz', 'compile', 'decision', 'errors', 'maybe-async', 'reasons', 'request', 'respond', 'telemetry'],
  grpc: ['errors', 'grpc-code', 'host-port', 'listen-address', 'maybe-async', 'pipeline', 'request', 'respond', 'telemetry', 'tls'],
  // the HTTP authorization listener: Envoy's http_service and forward-auth proxies
  'http-authz': ['digest', 'errors', 'listen-address', 'maybe-async', 'pipeline', 'reasons', 'request', 'respond', 'telemetry', 'tls'],
  http: ['host-port', 'telemetry', 'tls'],
  // TLS on the listeners: the files, their checks and their reloads
  tls: ['errors', 'telemetry'],
  // identity tokens: the key directory, the minter, the discovery documents
  identity: ['authn', 'authz', 'compile', 'decision', 'digest', 'telemetry'],
  config: ['compile', 'errors', 'keys', 'model', 'telemetry'],
  telemetry: ['authz', 'decision', 'errors', 'request'],
  // option types and the listeners' default limits
  cli: ['config', 'errors', 'grpc', 'host-port', 'model', 'telemetry', 'tls'],
  'policy-test': ['authn', 'authz', 'commands', 'compile', 'decision', 'errors', 'keys', 'model', 'request', 'respond', 'telemetry'],
  // composition: these wire the rooms together
  commands: ANY,
  main: ANY,
  workers: ANY,
  'cli-main': ANY,
};

/** package → the src/ paths (prefixes) that may import it */
const PACKAGES: Record<string, readonly string[]> = {
  '@kubernetes/client-node': ['config/kubernetes/'],
  '@grpc/grpc-js': ['grpc/'],
  '@grpc/proto-loader': ['grpc/'],
  protobufjs: ['grpc/'],
  jose: ['keys/prepared-key.ts', 'keys/decrypt-token.ts', 'commands/'],
  ioredis: ['authn/redis-replay-store.ts'],
  'prom-client': ['telemetry/'],
  // OpenTelemetry: loaded by tracing.ts only, and only when tracing is on
  ...Object.fromEntries(['api', 'sdk-trace', 'resources', 'core', 'propagator-b3', 'context-async-hooks', 'exporter-trace-otlp-grpc', 'exporter-trace-otlp-proto'].map((p) => [`@opentelemetry/${p}`, ['telemetry/tracing.ts']])),
  pino: ['telemetry/'],
  '@marcbachmann/cel-js': ['authz/cel/'],
  re2js: ['authz/'],
  ajv: ['model/'],
  yaml: ['model/'],
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : n.endsWith('.ts') ? [p] : [];
  });
}

function roomOf(file: string): string {
  const rel = relative(SRC, file).split(sep);
  return rel.length > 1 ? rel[0]! : rel[0]!.replace(/\.ts$/, '');
}

/** import/export … from '…' and import('…'), not comments */
function importsOf(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  return [...code.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'";]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)|^\s*import\s+'([^']+)'/gm)].map((m) => m[1] ?? m[2] ?? m[3]!);
}

const files = sources(SRC);

test('every room of src/ is in the table', () => {
  const rooms = new Set(files.map(roomOf));
  assert.deepEqual([...rooms].filter((r) => !(r in MAY_IMPORT)), []);
});

test('each room imports only the rooms docs/architecture.md allows', () => {
  const bad: string[] = [];
  for (const f of files) {
    const from = roomOf(f);
    const allowed = MAY_IMPORT[from]!;
    for (const spec of importsOf(readFileSync(f, 'utf8'))) {
      if (!spec.startsWith('.')) continue;
      const to = roomOf(normalize(join(dirname(f), spec.replace(/\.js$/, '.ts'))));
      if (to !== from && allowed !== ANY && !allowed.includes(to)) bad.push(`${relative(SRC, f)} imports ${to} (${spec})`);
    }
  }
  assert.deepEqual(bad, []);
});

test('each third-party package is confined to its room', () => {
  const bad: string[] = [];
  for (const f of files) {
    const rel = relative(SRC, f).split(sep).join('/');
    for (const spec of importsOf(readFileSync(f, 'utf8'))) {
      if (spec.startsWith('.') || spec.startsWith('node:')) continue;
      const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
      const where = PACKAGES[pkg];
      if (!where) bad.push(`${rel} imports ${pkg}, which the table does not know`);
      else if (!where.some((w) => rel.startsWith(w))) bad.push(`${rel} imports ${pkg}`);
    }
  }
  assert.deepEqual(bad, []);
});

test('a forbidden import is caught (the check itself works)', () => {
  assert.deepEqual(importsOf("import { x } from '../grpc/server.js';\n// import '../y.js'\n"), ['../grpc/server.js']);
  assert.ok(!(MAY_IMPORT.authn as readonly string[]).includes('grpc'));
});
