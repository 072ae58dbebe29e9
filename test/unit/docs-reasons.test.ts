/** The reason codes the docs name are ones the server answers with (links: docs-self-contained.test.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO } from '../helpers/claimcheck-process.js';

function markdownFiles(): string[] {
  const out = ['README.md', 'SECURITY.md', 'CHANGELOG.md'].filter((f) => existsSync(join(REPO, f))).map((f) => join(REPO, f));
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (n.endsWith('.md')) out.push(p);
    }
  };
  for (const d of ['docs', 'deploy', 'charts/claimcheck']) walk(join(REPO, d));
  return out;
}

function sourceText(): string {
  let text = '';
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (n.endsWith('.ts')) text += readFileSync(p, 'utf8');
    }
  };
  walk(join(REPO, 'src'));
  return text;
}

test('every reason code the docs name is one the server can answer with', () => {
  const src = sourceText();
  for (const f of markdownFiles()) {
    const text = readFileSync(f, 'utf8');
    for (const m of text.matchAll(/reason[= ]["`]([a-z_]+)["`]/g)) {
      assert.ok(src.includes(`'${m[1]}'`), `${relative(REPO, f)} names reason ${m[1]}`);
    }
  }
});
