/** Offsets inside an expression → 1-based line and column, and the source text there. */
export interface Location {
  line: number;
  column: number;
  /** the expression text of the failing node, whitespace collapsed, at most 80 characters */
  snippet: string;
}

const MAX_SNIPPET = 80;

export function locate(expression: string, start: number | undefined, end?: number): Location {
  const offset = Math.max(0, Math.min(start ?? 0, expression.length));
  const before = expression.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - (before.lastIndexOf('\n') + 1) + 1;
  let snippet = end !== undefined && end > offset ? expression.slice(offset, Math.min(end, expression.length)) : '';
  snippet = snippet.replace(/\s+/g, ' ').trim();
  if (snippet.length > MAX_SNIPPET) snippet = `${snippet.slice(0, MAX_SNIPPET - 1)}…`;
  return { line, column, snippet };
}
