/** The documents of a multi-document YAML text, one at a time, with line numbers. */
import { Composer, isMap, isNode, isPair, isScalar, LineCounter, Parser, type Document, type Node } from 'yaml';

export interface YamlDocument {
  doc: Document.Parsed;
  /** 1-based line of the document's first content */
  line: number;
}

export interface YamlText {
  /** 1-based line of a character offset */
  lineOf(offset: number | undefined): number;
  /** the documents in order; a composer failure ends the list with that error */
  documents(): Generator<YamlDocument, void, undefined>;
}

/**
 * One document at a time: a 10,000-resource file never holds more than one document's
 * syntax tree (parseAllDocuments would keep every tree until the last one is read).
 */
export function readYaml(text: string): YamlText {
  const lineCounter = new LineCounter();
  const lineOf = (offset: number | undefined): number => (offset === undefined ? 1 : lineCounter.linePos(offset).line);
  return {
    lineOf,
    *documents() {
      const docs = new Composer({ prettyErrors: false }).compose(new Parser(lineCounter.addNewLine).parse(text), false, text.length);
      for (const d of docs) {
        const doc = d as Document.Parsed;
        yield { doc, line: lineOf(doc.contents?.range?.[0] ?? doc.range?.[0]) };
      }
    },
  };
}

/**
 * The line of a YAML syntax error. yaml reports an unclosed quote or flow collection, and
 * a flow collection that is not indented enough, where the parser noticed it: at the start
 * of the next line (or at the end of the text). The mistake is on the last line with
 * content before that point.
 */
export function syntaxErrorLine(text: string, code: string, offset: number, lineOf: (o: number) => number): number {
  const atLineStart = offset >= text.length || offset === 0 || text[offset - 1] === '\n';
  if (!atLineStart || (code !== 'MISSING_CHAR' && code !== 'BAD_INDENT')) return lineOf(offset);
  let i = Math.min(offset, text.length) - 1;
  while (i > 0 && /\s/.test(text[i]!)) i--;
  return lineOf(i);
}

/** JSON pointer (/spec/rules/0) → keys. */
export function pointerKeys(path: string): string[] {
  return path.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** The YAML node (or the key of a pair, for unknown fields) at `pointer`; the closest ancestor found. */
export function nodeAt(doc: Document.Parsed, pointer: readonly (string | number)[]): Node | undefined {
  let node: unknown = doc.contents;
  let found: Node | undefined = isNode(node) ? node : undefined;
  for (const seg of pointer) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) break;
      // an unknown field points at its key; an existing one at its value
      found = isNode(pair.key) ? pair.key : found;
      node = pair.value;
      if (isNode(node) && node.range) found = node;
    } else if (node && typeof node === 'object' && 'items' in node && Array.isArray((node as { items: unknown[] }).items)) {
      const item = (node as { items: unknown[] }).items[Number(seg)];
      if (!isNode(item)) break;
      node = item;
      found = item;
    } else {
      break;
    }
  }
  return found;
}
