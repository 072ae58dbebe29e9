/** Markdown for the fields of one kind: an overview table, then one section per field. */
import { Document, isScalar, isSeq, stringify, visit } from 'yaml';
import type { FieldDoc, Segment } from './collect-fields.js';

/** YAML as people write it: lists of scalars inline (`[a, b]`), everything else in block style. */
export function toYaml(value: unknown): string {
  const doc = new Document(value);
  visit(doc, {
    Scalar(_, node) {
      // YAML 1.1 parsers (kubectl) would read an unquoted date as a timestamp, not a string
      if (typeof node.value === 'string' && /^\d{4}-\d{2}-\d{2}/.test(node.value)) node.type = 'QUOTE_DOUBLE';
    },
    Seq(_, node) {
      if (node.items.every((i) => isScalar(i) && !String(i.value).includes('\n'))) node.flow = true;
    },
    Map(_, node, path) {
      // a small list item reads best inline: `- {header: authorization, prefix: "Bearer "}`
      const inList = isSeq(path[path.length - 1]);
      if (inList && node.items.length <= 3 && node.items.every((p) => isScalar(p.value) && !String(p.value.value).includes('\n'))) node.flow = true;
    },
  });
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}

/** The example value placed under its path, so the reader sees where it goes. */
export function inContext(segments: readonly Segment[], value: unknown): unknown {
  let v = value;
  for (let i = segments.length - 1; i >= 0; i--) {
    const s = segments[i]!;
    v = { [s.key]: s.list && i < segments.length - 1 ? [v] : v };
  }
  return v;
}

export function anchor(kind: string, path: string): string {
  return `${kind}-${path}`.toLowerCase().replace(/\[\]/g, '').replace(/[^a-z0-9]+/g, '-');
}

function inline(value: unknown): string {
  const text = typeof value === 'string' && value !== '' && value.trim() === value
    ? value
    : stringify(value, { collectionStyle: 'flow', flowCollectionPadding: false, lineWidth: 0 }).trim();
  return `\`${text}\``;
}

function tableRow(kind: string, f: FieldDoc): string {
  const notes = [f.required ? 'required' : '', f.fileSourceOnly ? 'file source only' : ''].filter(Boolean).join(', ');
  return `| [\`${f.path}\`](#${anchor(kind, f.path)}) | ${f.type} | ${notes} | ${f.default === undefined ? '' : inline(f.default).replace(/\|/g, '\\|')} |`;
}

function section(kind: string, f: FieldDoc): string {
  const facts = [`**${f.type}**`, f.required ? 'required' : 'optional'];
  if (f.default !== undefined) facts.push(`default ${inline(f.default)}`);
  if (f.fileSourceOnly) facts.push('file source only (not in the CRD)');
  const lines = [`<a name="${anchor(kind, f.path)}"></a>`, `#### \`${f.path}\``, '', facts.join(' · ')];
  if (f.validation.length > 0) lines.push('', `Validation: ${f.validation.join('; ')}.`);
  lines.push('', f.description);
  if (f.example !== undefined) lines.push('', '```yaml', toYaml(inContext(f.segments, f.example)).trimEnd(), '```');
  return lines.join('\n');
}

export function renderFields(kind: string, fields: readonly FieldDoc[]): string {
  const table = ['| Field | Type | Notes | Default |', '|---|---|---|---|', ...fields.map((f) => tableRow(kind, f))].join('\n');
  return [table, ...fields.map((f) => section(kind, f))].join('\n\n');
}
