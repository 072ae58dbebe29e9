/**
 * Every claimcheck manifest under examples/ (the demo and examples/.issuers) and deploy/
 * names its editor schema on its first line, and validates against it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ROOT, SCHEMA_DIR } from '../../scripts/gen-reference.js';
import { SCHEMA_FILES } from '../../scripts/reference/editor-schemas.js';
import { editorValidator } from './editor-schema-support.js';

const MODELINE = /^# yaml-language-server: \$schema=(\S+)\n/;

/** every *.yaml under dir, dot directories included (the loader skips them; this test must not) */
function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return yamlFiles(p);
    return /\.ya?ml$/.test(name) ? [p] : [];
  });
}

function claimcheckDocs(file: string): Record<string, unknown>[] {
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => d.toJS() as Record<string, unknown> | null)
    .filter((d): d is Record<string, unknown> => typeof d?.apiVersion === 'string' && d.apiVersion.startsWith('claimcheck.io/'));
}

// policy tests (kind: PolicyTest) are read by claimcheck test, not applied: they have no resource schema
const examples = yamlFiles(join(ROOT, 'examples')).filter((f) => !claimcheckDocs(f).some((d) => d.kind === 'PolicyTest'));
const deploy = yamlFiles(join(ROOT, 'deploy')).filter((f) => claimcheckDocs(f).length > 0);

test('the examples and the deploy manifests with claimcheck resources are found', () => {
  assert.ok(examples.length >= 13, examples.join(', '));
  assert.ok(examples.some((f) => f.includes('/.issuers/hmac/')));
  assert.deepEqual(deploy.map((f) => relative(ROOT, f)).sort(), ['deploy/gateway/policy.yaml', 'deploy/istio/issuer-and-policy.yaml']);
});

for (const file of [...examples, ...deploy]) {
  const rel = relative(ROOT, file);
  test(`${rel} names its schema on the first line and validates against it`, () => {
    const text = readFileSync(file, 'utf8');
    const m = MODELINE.exec(text);
    assert.ok(m, 'first line: # yaml-language-server: $schema=<relative path>');
    const schema = relative(join(ROOT, SCHEMA_DIR), resolve(dirname(file), m[1]!));
    const docs = claimcheckDocs(file);
    const kinds = [...new Set(docs.map((d) => String(d.kind)))];
    assert.ok(docs.length > 0, 'holds claimcheck resources');
    // one kind: that kind's schema; several: the schema that takes any of them
    const expected = kinds.length === 1 ? SCHEMA_FILES[kinds[0] as keyof typeof SCHEMA_FILES] : SCHEMA_FILES.any;
    assert.equal(schema, expected, `kinds ${kinds.join(', ')}`);
    const validate = editorValidator(schema);
    for (const d of docs) assert.ok(validate(d), JSON.stringify(validate.errors, null, 2));
  });
}
