/**
 * The documentation is complete inside the repository: no file points to material
 * outside it, and every relative link in the Markdown files leads to a file that exists.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SELF = fileURLToPath(import.meta.url);
const SKIP = new Set(['node_modules', 'dist', '.git']);

function files(dir: string, ext: RegExp): string[] {
  return readdirSync(dir).flatMap((name) => {
    if (SKIP.has(name)) return [];
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return files(p, ext);
    return ext.test(name) ? [p] : [];
  });
}

const TEXT = /\.(md|ts|mjs|js|json|ya?ml|tpl|txt|sh)$|^Dockerfile$/;
const sources = ['README.md', 'Dockerfile', 'docs', 'examples', 'deploy', 'charts', 'src', 'scripts', 'bench', 'test', 'schemas']
  .map((p) => join(ROOT, p))
  .flatMap((p) => (statSync(p).isDirectory() ? files(p, TEXT) : [p]))
  .filter((f) => f !== SELF);

test('no file refers to design material outside the repository', () => {
  // spelled in pieces so this file does not match itself
  const outside = [['api', 'md'].join('.'), ['..', 'shared'].join('/'), ['product', 'contract'].join(' ')];
  const hits = sources.flatMap((f) => {
    const text = readFileSync(f, 'utf8');
    return outside.filter((s) => text.includes(s)).map((s) => `${relative(ROOT, f)}: ${s}`);
  });
  assert.deepEqual(hits, []);
});

test('every relative link in the Markdown files leads to a file in the repository', () => {
  const broken: string[] = [];
  // scripts/reference/*.md are parts of docs/reference.md: their links are checked there
  for (const f of sources.filter((s) => s.endsWith('.md') && !s.includes('/scripts/reference/'))) {
    const text = readFileSync(f, 'utf8').replace(/```[\s\S]*?```/g, '');
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1]!.split('#')[0]!;
      if (target === '' || /^[a-z]+:/.test(target)) continue;
      const abs = resolve(dirname(f), target);
      if (!abs.startsWith(ROOT) || !existsSync(abs)) broken.push(`${relative(ROOT, f)}: ${m[1]}`);
    }
  }
  assert.deepEqual(broken, []);
});
