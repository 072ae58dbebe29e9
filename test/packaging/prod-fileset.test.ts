/**
 * The container's production file set, built without Docker the way the Dockerfile's
 * `prod` stage builds it (scripts/prod-fileset.mjs), started and asked real Checks:
 * a runtime import of a dev-only or undeclared package fails here.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { REPO } from '../helpers/claimcheck-process.js';
import { assertAllowsAndDenies } from './lib/demo-requests.js';

function filesUnder(dir: string, skip = new Set(['node_modules'])): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (skip.has(name)) continue;
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...filesUnder(full, skip));
    else out.push(full.slice(dir.length + 1));
  }
  return out;
}

/** `claimcheck serve` from another directory than the repository (the helper's BIN is the repo's). */
async function serveFrom(bin: string, configDir: string): Promise<{ child: ChildProcess; grpc: string; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [bin, 'serve', '--config-dir', configDir, '--grpc-addr', '127.0.0.1:0', '--http-addr', '127.0.0.1:0', '--workers', '1'], {
    cwd: join(bin, '..', '..'),
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, NODE_ENV: 'production', NODE_PATH: '' },
  });
  let log = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const grpc = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`not serving within 30 s:\n${log}`)), 30_000);
    createInterface({ input: child.stderr! }).on('line', (line) => {
      log += line + '\n';
      try {
        const l = JSON.parse(line);
        if (l.msg === 'claimcheck serving') {
          clearTimeout(t);
          resolve(String(l.grpc));
        }
      } catch {
        /* not JSON */
      }
    });
    void exited.then(() => { clearTimeout(t); reject(new Error(`exited before serving:\n${log}`)); });
  });
  return { child, grpc, stop: async () => { if (child.exitCode === null) child.kill('SIGTERM'); await exited; } };
}

describe('production file set (scripts/prod-fileset.mjs, as the Dockerfile builds it)', () => {
  let out: string;
  before(() => {
    const r = spawnSync(process.execPath, [join(REPO, 'scripts/prod-fileset.mjs')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    assert.equal(r.status, 0, `prod-fileset.mjs failed:\n${r.stderr}`);
    out = r.stdout.trim().split('\n').pop()!;
  });
  after(() => {
    if (out) rmSync(out, { recursive: true, force: true });
  });

  test('holds the package files and runtime dependencies only: no TypeScript sources, no dev-only packages', () => {
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
    const top = readdirSync(out).sort();
    for (const f of [...pkg.files, 'package.json', 'node_modules']) assert.ok(top.includes(f), `${f} missing (got ${top.join(', ')})`);
    for (const f of ['src', 'test', 'scripts', 'charts', 'deploy', 'tsconfig.json']) assert.ok(!top.includes(f), `${f} must not be in the image`);
    assert.deepEqual(filesUnder(out).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')), []);
    for (const dev of ['typescript', 'tsx', '@grpc/grpc-js-xds']) assert.ok(!existsSync(join(out, 'node_modules', dev)), `${dev} installed`);
    for (const dep of Object.keys(pkg.dependencies)) assert.ok(existsSync(join(out, 'node_modules', dep, 'package.json')), `${dep} not installed`);
    assert.ok(existsSync(join(out, 'dist/cli-main.js')) && existsSync(join(out, 'proto/envoy/service/auth/v3/external_auth.proto')));
  });

  test('claimcheck serve from it answers an allowed and a denied Check, and its healthcheck says SERVING', async () => {
    const bin = join(out, 'bin/claimcheck.js');
    const server = await serveFrom(bin, join(out, 'examples'));
    try {
      await assertAllowsAndDenies(server.grpc, { host: 'localhost', path: '/api/orders', scope: 'api:read', bin });
      const h = spawnSync(process.execPath, [bin, 'healthcheck', '--addr', server.grpc], { encoding: 'utf8', cwd: out });
      assert.equal(h.status, 0, h.stdout + h.stderr);
      assert.match(h.stdout, /SERVING/);
    } finally {
      await server.stop();
    }
  });
});

describe('Dockerfile and .dockerignore', () => {
  const dockerfile = readFileSync(join(REPO, 'Dockerfile'), 'utf8');

  test('base images are pinned by digest and the final stage is distroless Node.js 20 as uid 65532', () => {
    const args = Object.fromEntries([...dockerfile.matchAll(/^ARG (\w+)=(\S+)$/gm)].map((m) => [m[1], m[2]]));
    assert.match(args.NODE_IMAGE ?? '', /^node:20-bookworm-slim@sha256:[0-9a-f]{64}$/);
    assert.match(args.RUNTIME_IMAGE ?? '', /^gcr\.io\/distroless\/nodejs20-debian12:nonroot@sha256:[0-9a-f]{64}$/);
    const stages = [...dockerfile.matchAll(/^FROM (\S+)(?: AS (\w+))?$/gm)].map((m) => [m[1], m[2]]);
    assert.deepEqual(stages, [['${NODE_IMAGE}', 'build'], ['${NODE_IMAGE}', 'prod'], ['${RUNTIME_IMAGE}', undefined]]);
    const final = dockerfile.slice(dockerfile.lastIndexOf('FROM '));
    assert.match(final, /^USER 65532:65532$/m);
    assert.match(final, /^COPY --from=prod --chown=0:0 \/app \/app$/m);
    assert.match(final, /^ENTRYPOINT \["\/nodejs\/bin\/node", "\/app\/bin\/claimcheck\.js"\]$/m);
    assert.doesNotMatch(final, /^RUN /m, 'distroless has no shell');
  });

  test('the prod stage is what scripts/prod-fileset.mjs reproduces: npm pack, then npm ci --omit=dev --ignore-scripts', () => {
    assert.match(dockerfile, /npm pack --ignore-scripts/);
    const prod = dockerfile.slice(dockerfile.indexOf('AS prod'), dockerfile.lastIndexOf('FROM '));
    assert.match(prod, /npm ci --omit=dev --ignore-scripts/);
    const script = readFileSync(join(REPO, 'scripts/prod-fileset.mjs'), 'utf8');
    assert.match(script, /'pack', '--ignore-scripts'/);
    assert.match(script, /'ci', '--omit=dev', '--ignore-scripts'/);
  });

  test('.dockerignore lets only the build inputs into the context', () => {
    const lines = readFileSync(join(REPO, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    assert.equal(lines[0], '*', 'allow-list: ignore everything first');
    const allowed = lines.slice(1).map((l) => l.replace(/^!/, '').replace(/\/$/, '')).sort();
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
    for (const need of [...pkg.files.filter((f: string) => f !== 'dist'), 'src', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json']) {
      assert.ok(allowed.includes(need), `${need} is needed by the build stage`);
    }
    for (const never of ['test', 'node_modules', 'dist', 'charts', 'deploy', '.git', 'config']) assert.ok(!allowed.includes(never), `${never} must stay out`);
  });
});
