/** Base error with a stable code; branch on `code`, never on message text. */
export class ClaimcheckError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'ClaimcheckError';
  }
}

/** A configuration problem, located in a file where known. */
export interface ConfigProblem {
  /** config_dir_unreadable: the directory itself, so nothing under it can be trusted to be gone */
  code?: 'config_dir_unreadable';
  file?: string;
  line?: number;
  kind?: string;
  name?: string;
  namespace?: string;
  /** JSON-pointer-like path inside the resource, e.g. /spec/rules/0/match */
  path?: string;
  message: string;
}

export function formatProblem(p: ConfigProblem): string {
  const where = p.file ? `${p.file}${p.line ? `:${p.line}` : ''}: ` : '';
  const what = p.kind ? `${p.kind}${p.name ? ` ${p.namespace ? `${p.namespace}/` : ''}${p.name}` : ''}: ` : '';
  const at = p.path ? `${p.path}: ` : '';
  return `${where}${what}${at}${p.message}`;
}
