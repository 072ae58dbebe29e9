/**
 * The committed descriptor set the protobuf reference reads (test/oracle/claimcheck-protos.binpb,
 * compiled by protoc) must describe proto/ as it is now: after an edit of proto/, rerun
 * scripts/gen-test-descriptors.sh. proto/ is parsed here by protobufjs (through proto-loader).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fromBinary } from '@bufbuild/protobuf';
import { FieldDescriptorProto_Label, FieldDescriptorProto_Type, FileDescriptorSetSchema, type DescriptorProto } from '@bufbuild/protobuf/wkt';
import { DESCRIPTOR_SET_FILE } from '../oracle/reference-codec.js';
import { loadProtos } from '../oracle/load-protos.js';

type Field = { name: string; number: number; type: string; label: string; typeName: string };

function fromProtoc(): Map<string, Field[]> {
  const out = new Map<string, Field[]>();
  const walk = (prefix: string, m: DescriptorProto) => {
    const name = `${prefix}.${m.name}`;
    out.set(name, m.field.map((f) => ({ name: f.name, number: f.number, type: `TYPE_${FieldDescriptorProto_Type[f.type]}`, label: `LABEL_${FieldDescriptorProto_Label[f.label]}`, typeName: f.typeName.replace(/^\./, '') })));
    for (const n of m.nestedType) walk(name, n);
  };
  for (const file of fromBinary(FileDescriptorSetSchema, readFileSync(DESCRIPTOR_SET_FILE)).file) for (const m of file.messageType) walk(file.package, m);
  return out;
}

function fromProtoDir(): Map<string, Field[]> {
  const out = new Map<string, Field[]>();
  for (const [name, def] of Object.entries(loadProtos().packageDefinition)) {
    const d = def as { format?: string; type?: { field?: Field[] } };
    if (d.format !== 'Protocol Buffer 3 DescriptorProto' || name.startsWith('google.protobuf.')) continue;
    out.set(name, (d.type?.field ?? []).map((f) => ({ name: f.name, number: f.number, type: f.type, label: f.label, typeName: f.typeName })));
  }
  return out;
}

test('the reference descriptor set has every message of proto/ with the same fields', () => {
  const compiled = fromProtoc();
  const source = fromProtoDir();
  assert.ok(source.size >= 14, `${source.size} messages in proto/`);
  for (const [name, fields] of source) {
    const got = compiled.get(name);
    assert.ok(got, `${name} is in ${DESCRIPTOR_SET_FILE.pathname}: rerun scripts/gen-test-descriptors.sh`);
    // map fields: protoc names the entry type XEntry, protobufjs after the field; the entry's own fields are compared
    const maps = new Set(got.filter((f) => f.label === 'LABEL_REPEATED' && f.typeName.endsWith('Entry')).map((f) => f.number));
    const norm = (fs: Field[]) =>
      fs.map((f) => ({ ...f, typeName: maps.has(f.number) ? 'map entry' : f.typeName.slice(f.typeName.lastIndexOf('.') + 1) })).sort((a, b) => a.number - b.number);
    assert.deepStrictEqual(norm(got), norm(fields), `${name}: rerun scripts/gen-test-descriptors.sh`);
  }
});
