/**
 * Compile problems name a resource and a JSON pointer inside it; resources remember only
 * the line where their document starts. Problems are rare, so the field's own line is
 * found afterwards, by reading the file once more, rather than keeping a line table for
 * every node of every resource in memory.
 */
import { readFile } from 'node:fs/promises';
import type { ConfigProblem } from '../errors.js';
import { nodeAt, pointerKeys, readYaml } from './yaml-documents.js';

type Reader = (file: string) => Promise<string>;

export async function locateProblems<T extends ConfigProblem>(problems: readonly T[], read: Reader = (f) => readFile(f, 'utf8')): Promise<T[]> {
  const byFile = new Map<string, T[]>();
  for (const p of problems) {
    if (p.file && p.path && p.line) byFile.set(p.file, [...(byFile.get(p.file) ?? []), p]);
  }
  if (byFile.size === 0) return [...problems];
  const located = new Map<T, number>();
  for (const [file, list] of byFile) {
    let text: string;
    try {
      text = await read(file);
    } catch {
      continue; // the file changed since it was loaded: keep the document's line
    }
    const yaml = readYaml(text);
    const wanted = new Set(list.map((p) => p.line));
    try {
      for (const { doc, line } of yaml.documents()) {
        if (!wanted.has(line)) continue;
        for (const p of list) {
          if (p.line !== line) continue;
          const node = nodeAt(doc, pointerKeys(p.path!));
          if (node?.range) located.set(p, yaml.lineOf(node.range[0]));
        }
      }
    } catch {
      // unparseable now: keep the document lines
    }
  }
  return problems.map((p) => (located.has(p) ? { ...p, line: located.get(p)! } : p));
}
