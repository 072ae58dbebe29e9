import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { parseAllDocuments } from 'yaml';
import { REFERENCE_FILE, ROOT, SCHEMA_DIR, renderReference } from '../../scripts/gen-reference.js';
import { validateResource } from '../../src/model/validate-resource.js';
import { KINDS } from '../../src/model/types.js';
import { editorValidator } from './editor-schema-support.js';

test('the committed docs/reference.md and schemas/ are exactly what scripts/gen-reference.ts generates', () => {
  const rendered = renderReference();
  const schemaFiles = readdirSync(join(ROOT, SCHEMA_DIR)).map((n) => `${SCHEMA_DIR}/${n}`).sort();
  assert.deepEqual(schemaFiles, [...rendered.keys()].filter((k) => k.startsWith(`${SCHEMA_DIR}/`)).sort(), 'one file per generated schema, no strays');
  for (const [rel, text] of rendered) {
    assert.equal(readFileSync(join(ROOT, rel), 'utf8'), text, `${rel} is stale: run npm run gen:reference`);
  }
});

test('the reference documents every field of every kind, with its type and an anchor', () => {
  const page = renderReference().get(REFERENCE_FILE)!;
  for (const path of ['spec.jwks.secretRef.path', 'spec.clockSkew', 'spec.rules[].require.claims[].matches', 'spec.subjects[].issuedBefore']) {
    assert.ok(page.includes(`#### \`${path}\``), path);
  }
  assert.match(page, /"clockSkew must be at most 5m"/, 'CEL messages are listed');
  assert.match(page, /file source only \(not in the CRD\)/);
  for (const kind of KINDS) assert.ok(page.includes(`\n## ${kind}\n`), kind);
});

test('every complete resource shown in the reference passes claimcheck\'s schema and the editor schema', () => {
  const page = readFileSync(join(ROOT, REFERENCE_FILE), 'utf8');
  const blocks = [...page.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((b) => /^apiVersion: claimcheck\.io\//m.test(b));
  assert.ok(blocks.length >= 4, `found ${blocks.length} complete examples`);
  const editor = editorValidator('claimcheck.json');
  for (const block of blocks) {
    for (const doc of parseAllDocuments(block)) {
      const obj = doc.toJS();
      assert.deepEqual(validateResource(obj), [], block);
      assert.ok(editor(obj), `${JSON.stringify(editor.errors)}\n${block}`);
    }
  }
});

test('the editor schemas are valid draft-07 and say what claimcheck says about wrong documents', () => {
  const ajv = new Ajv({ strict: false });
  for (const name of readdirSync(join(ROOT, SCHEMA_DIR))) {
    assert.ok(ajv.validateSchema(JSON.parse(readFileSync(join(ROOT, SCHEMA_DIR, name), 'utf8'))), name);
  }
  const issuer = { apiVersion: 'claimcheck.io/v1alpha1', kind: 'TrustedIssuer', metadata: { name: 'idp' }, spec: { issuer: 'https://idp.example.com', jwks: { discovery: true } } };
  const cases: [string, unknown, boolean][] = [
    ['a valid issuer', issuer, true],
    ['a typo in spec', { ...issuer, spec: { ...issuer.spec, audience: ['x'] } }, false],
    ['two key sources', { ...issuer, spec: { ...issuer.spec, jwks: { discovery: true, uri: 'https://x' } } }, false],
    ['a Go duration', { ...issuer, spec: { ...issuer.spec, clockSkew: '1m30s' } }, true],
    ['an ISO 8601 duration', { ...issuer, spec: { ...issuer.spec, clockSkew: 'PT30S' } }, false],
    ['algorithm none', { ...issuer, spec: { ...issuer.spec, algorithms: ['none'] } }, false],
    ['a name that is not DNS-1123', { ...issuer, metadata: { name: 'Corp_IdP' } }, false],
    ['a file-source secretRef', { ...issuer, spec: { ...issuer.spec, jwks: { secretRef: { path: './k.pem' } } } }, true],
  ];
  const byKind = editorValidator('trustedissuer.json');
  const any = editorValidator('claimcheck.json');
  for (const [what, doc, valid] of cases) {
    assert.equal(byKind(doc), valid, `trustedissuer.json: ${what}`);
    assert.equal(any(doc), valid, `claimcheck.json: ${what}`);
    assert.equal(validateResource(doc).length === 0, valid, `claimcheck agrees: ${what}`);
  }
  assert.equal(any({ ...issuer, kind: 'AuthorizationPolicy' }), false, 'an unknown kind');
  assert.equal(any({ apiVersion: 'claimcheck.io/v1alpha1', kind: 'TokenRevocation', metadata: { name: 'r' }, spec: { issuer: 'idp', jtis: ['a'] } }), true);
  assert.equal(editorValidator('authpolicy.json')(issuer), false, 'a TrustedIssuer is not an AuthPolicy');
});
