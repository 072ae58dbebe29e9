import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { CRD_DIR, renderCrds, toStructural } from '../../scripts/gen-crds.js';
import { RESOURCE_SCHEMAS } from '../../src/model/schema/index.js';

test('the committed CRDs are exactly what scripts/gen-crds.ts generates from src/model/schema', () => {
  const rendered = renderCrds();
  const committed = readdirSync(CRD_DIR).filter((f) => f.endsWith('.yaml')).sort();
  assert.deepEqual(committed, [...rendered.keys()].sort(), 'one file per kind, no strays');
  for (const [name, text] of rendered) {
    assert.equal(readFileSync(join(CRD_DIR, name), 'utf8'), text, `${name} is stale: run npm run gen:crds`);
  }
});

/** Every node must carry a type, except preserve-unknown-fields leaves (Kubernetes structural schema rule). */
function untypedNodes(node: any, path: string, out: string[]): string[] {
  if (!node || typeof node !== 'object') return out;
  if (node.type === undefined && node['x-kubernetes-preserve-unknown-fields'] !== true) out.push(path);
  if (node.additionalProperties === false) out.push(`${path} (additionalProperties: false)`);
  // only `required`-only branches are allowed (value validation); anything else is not structural
  for (const b of [...(node.oneOf ?? []), ...(node.anyOf ?? [])]) if (Object.keys(b).join() !== 'required') out.push(`${path} (oneOf/anyOf with ${Object.keys(b).join()})`);
  for (const [k, v] of Object.entries(node.properties ?? {})) untypedNodes(v, `${path}.${k}`, out);
  if (node.items) untypedNodes(node.items, `${path}[]`, out);
  if (typeof node.additionalProperties === 'object') untypedNodes(node.additionalProperties, `${path}{}`, out);
  return out;
}

test('every generated schema is structural and preserves unknown fields only on value leaves', () => {
  for (const [name, text] of renderCrds()) {
    const crd = parse(text);
    const schema = crd.spec.versions[0].schema.openAPIV3Schema;
    assert.deepEqual(untypedNodes(schema.properties.spec, 'spec', []), [], name);
    assert.notEqual(schema.properties.spec['x-kubernetes-preserve-unknown-fields'], true, `${name}: spec must not preserve unknown fields`);
    assert.deepEqual(crd.spec.versions[0].subresources, { status: {} }, name);
    assert.deepEqual(crd.spec.names.categories, ['claimcheck'], name);
  }
});

test('exactly-one-of constraints become CEL rules with readable messages', () => {
  const jwks = (toStructural((RESOURCE_SCHEMAS.TrustedIssuer as any).properties.spec) as any).properties.jwks;
  const rules = jwks['x-kubernetes-validations'].map((r: { message: string }) => r.message);
  assert.ok(rules.includes('exactly one of uri, discovery, inline, secretRef must be set'), rules.join(' | '));
});
