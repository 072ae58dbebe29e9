/**
 * The one CEL environment every `when` condition is compiled in (docs/cel.md).
 *
 * Library: @marcbachmann/cel-js, chosen over @bufbuild/cel and cel-js by the
 * measurements recorded in docs/cel.md (it type-checks at load with source
 * positions, which @bufbuild/cel does not export, and compiles and evaluates faster).
 *
 * `request`, `source` and `destination` are declared as typed objects, so a
 * misspelt field (`request.methd`) or a wrong operand type
 * (`request.method == 1`) is a load error, not a runtime deny. `claims` is
 * `map<string, dyn>`: a JWT payload has no schema, so claim types are only known
 * at evaluation time.
 */
import { Environment } from '@marcbachmann/cel-js';
import { registerRe2Matches } from './regex.js';

/** `request`: the normalised HTTP request. Field values only; built per evaluation. */
export class CelRequest {
  constructor(
    readonly method: string,
    readonly host: string,
    readonly path: string,
    readonly query: Readonly<Record<string, string>>,
    readonly headers: Readonly<Record<string, string>>,
    readonly time: Date,
  ) {}
}

/** `source` / `destination`: Envoy's peer attributes. */
export class CelPeer {
  constructor(
    readonly principal: string,
    readonly address: string,
  ) {}
}

/**
 * Structural limits enforced by the parser (the library's `limits`): together with
 * MAX_EXPRESSION_LENGTH they bound the size of the cost model computed at load.
 */
export const CEL_PARSE_LIMITS = Object.freeze({
  maxAstNodes: 500,
  maxDepth: 32,
  maxListElements: 100,
  maxMapEntries: 100,
  maxCallArguments: 8,
});

export const MAX_EXPRESSION_LENGTH = 4096;

export const CEL_VARIABLES = Object.freeze({
  claims: 'map<string, dyn>',
  request: 'claimcheck.Request',
  source: 'claimcheck.Peer',
  destination: 'claimcheck.Peer',
});

let shared: Environment | undefined;

/** The shared environment; registries are frozen after the first parse, so one instance serves all. */
export function celEnvironment(): Environment {
  if (shared) return shared;
  const env = new Environment({
    // `claims.?tenant.orValue('')` reads an optional claim without an error (cel-go's optional types).
    enableOptionalTypes: true,
    limits: { ...CEL_PARSE_LIMITS },
  })
    .registerType('claimcheck.Request', {
      ctor: CelRequest,
      fields: {
        method: 'string',
        host: 'string',
        path: 'string',
        query: 'map<string, string>',
        headers: 'map<string, string>',
        time: 'google.protobuf.Timestamp',
      },
    })
    .registerType('claimcheck.Peer', { ctor: CelPeer, fields: { principal: 'string', address: 'string' } })
    .registerVariable('claims', CEL_VARIABLES.claims)
    .registerVariable('request', CEL_VARIABLES.request)
    .registerVariable('source', CEL_VARIABLES.source)
    .registerVariable('destination', CEL_VARIABLES.destination);
  shared = registerRe2Matches(env);
  return shared;
}
