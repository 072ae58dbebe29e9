/** Every code a ClaimcheckError can carry (jose's JOSEErrorCode is the model): branch on these, never on message text. */
export type ErrorCode =
  // command line
  | 'bad_flag'
  // configuration
  | 'invalid_claim_requirement'
  | 'invalid_duration'
  | 'invalid_path_pattern'
  | 'kube_config_missing'
  | 'kube_api_error'
  // keys
  | 'discovery_invalid'
  | 'discovery_issuer_mismatch'
  | 'jwks_invalid'
  | 'decryption_keys_invalid'
  | 'decryption_keys_unavailable'
  | 'jwks_no_usable_keys'
  | 'jwks_source_unavailable'
  | 'jwks_too_many_keys'
  | 'key_fetch_failed'
  | 'key_fetch_invalid'
  | 'key_fetch_redirect'
  | 'key_fetch_refused'
  | 'key_fetch_status'
  | 'key_fetch_timeout'
  | 'key_fetch_tls'
  | 'key_fetch_too_large'
  // listeners
  | 'listen_failed'
  | 'tls_files_invalid'
  // gRPC
  | 'invalid_request_proto'
  | 'invalid_response_plan'
  | 'struct_too_deep';

/** Base error with a stable code; branch on `code`, never on message text. */
export class ClaimcheckError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
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
