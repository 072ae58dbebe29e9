#!/usr/bin/env node
// Builds the production file set the way the Dockerfile's `prod` stage does,
// without a Docker engine:
//   npm pack (the package's "files" + package.json), unpacked into a clean
//   directory, plus package-lock.json, then `npm ci --omit=dev --ignore-scripts`.
// It uses the dist/ already built in the repository (`npm run build`); the
// production install must not need tsc (a dev dependency), hence --ignore-scripts.
//
//   node scripts/prod-fileset.mjs [--out DIR]    prints DIR on the last line
//
// Then `node DIR/bin/claimcheck.js serve` runs exactly what the image runs; a
// runtime import of a dev-only or undeclared package fails there.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const root = new URL('..', import.meta.url).pathname;
const { values } = parseArgs({ options: { out: { type: 'string' } } });
const log = (m) => process.stderr.write(`prod-fileset: ${m}\n`);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

if (!existsSync(join(root, 'dist', 'cli-main.js'))) {
  log('dist/ is not built; run `npm run build` first');
  process.exit(1);
}

const out = values.out ?? mkdtempSync(join(tmpdir(), 'claimcheck-prod-'));
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const packDir = mkdtempSync(join(tmpdir(), 'claimcheck-pack-'));
try {
  log('npm pack --ignore-scripts');
  const packed = JSON.parse(execFileSync(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', packDir], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }));
  const tarball = join(packDir, packed[0].filename);
  execFileSync('tar', ['-xzf', tarball, '-C', out, '--strip-components=1']);
} finally {
  rmSync(packDir, { recursive: true, force: true });
}
cpSync(join(root, 'package-lock.json'), join(out, 'package-lock.json'));

log(`npm ci --omit=dev --ignore-scripts in ${out}`);
execFileSync(npm, ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'], {
  cwd: out,
  stdio: ['ignore', 'inherit', 'inherit'],
  env: { ...process.env, NODE_ENV: 'production' },
});

// The same guarantees the Dockerfile's prod stage checks.
const problems = [];
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (name === 'node_modules') continue;
    if (statSync(full).isDirectory()) walk(full);
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) problems.push(`TypeScript source in the file set: ${full.slice(out.length + 1)}`);
  }
}
walk(out);
// The lockfile marks packages only dev dependencies need with "dev": true
// (e.g. typescript, tsx); none of them may be installed. A devDependency that a
// runtime dependency also pulls in (@types/node via protobufjs) is not marked.
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
for (const [path, entry] of Object.entries(lock.packages ?? {})) {
  if (path && entry.dev && existsSync(join(out, path))) problems.push(`dev-only package installed: ${path}`);
}
if (problems.length) {
  for (const p of problems) log(p);
  process.exit(1);
}
log('ok');
process.stdout.write(out + '\n');
