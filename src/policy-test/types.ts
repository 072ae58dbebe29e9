/** A PolicyTest document after parsing and validation (docs/policy-tests.md). */

export interface TestRequest {
  host: string;
  path: string;
  /** upper case; default GET */
  method: string;
  /** lowercase name -> one value per occurrence */
  headers: Map<string, string[]>;
}

/** `token:` — a token the run signs with the issuer's throwaway key. */
export interface TokenSpec {
  /** TrustedIssuer name, or namespace/name */
  issuer: string;
  /** added to or overriding the defaults; null removes a claim */
  claims: Record<string, unknown>;
  lifetimeSec: number;
  /** JOSE header parameters over {alg, kid, typ}; null removes one */
  header: Record<string, unknown>;
  /** 1-based line of `token.issuer`, for an issuer that does not resolve */
  line: number;
}

export interface Expectation {
  decision: 'allow' | 'deny';
  status?: number;
  /** the decision's reason code, or the deny body's `error` */
  reason?: string;
  /** lowercase name -> value, or null for "not set" */
  headers?: Map<string, string | null>;
}

export interface TestCase {
  name: string;
  /** 1-based line of the case */
  line: number;
  request: TestRequest;
  token?: TokenSpec;
  /** sent as the bearer token as it is */
  raw?: string;
  expect: Expectation;
}

export interface PolicyTest {
  /** the test file as given on the command line (or found under a given directory) */
  file: string;
  /** 1-based line of the document */
  line: number;
  name?: string;
  /** metadata.namespace: where a bare token.issuer name is looked up first */
  namespace?: string;
  /** spec.config as written, and resolved against the test file's directory */
  config: string;
  configDir: string;
  cases: TestCase[];
}
