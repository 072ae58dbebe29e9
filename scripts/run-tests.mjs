#!/usr/bin/env node
// Runs every test/**/*.test.ts with node's built-in runner through tsx.
// Node 20's --test does not expand globs, so the file list is built here.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const unitOnly = process.argv.includes('--unit');
const extra = process.argv.slice(2).filter((a) => a !== '--unit');

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...walk(full));
    else if (name.endsWith('.test.ts')) out.push(full);
  }
  return out;
}

const base = join(root, unitOnly ? 'test/unit' : 'test');
let files = walk(base).map((f) => relative(root, f));
if (extra.length) files = files.filter((f) => extra.some((e) => f.includes(e)));
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}

// Integration tests start the built bin: make sure dist/ matches the sources.
if (!unitOnly) {
  const build = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

// Every test, and every file as a whole, fails after 15 minutes: a hang is then one failed
// file with its output, not a CI run that stops at its own limit with nothing to show.
const TEST_TIMEOUT_MS = 15 * 60_000;

const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter', 'spec', `--test-concurrency=${unitOnly ? 2 : 1}`, `--test-timeout=${TEST_TIMEOUT_MS}`, ...files],
  { cwd: root, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } },
);
child.on('exit', (code, signal) => process.exit(signal ? 1 : code ?? 1));
