import { fileURLToPath } from 'node:url';
import type * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/**
 * claimcheck's proto/ through proto-loader (protobufjs), for the tests' gRPC clients and
 * the schema comparison with Envoy's upstream protos. Only tests use it: claimcheck
 * itself encodes and decodes with src/grpc/wire/.
 */
export const PROTO_DIR = fileURLToPath(new URL('../../proto/', import.meta.url));

/**
 * Loader options shared by the tests' clients:
 * - keepCase: field names as in the .proto (snake_case), matching Envoy's docs.
 * - longs: Number — the only int64 is HttpRequest.size, far below 2^53.
 * - enums: String — readable in logs and tests; on encode protobufjs accepts the
 *   name or the number, so callers may pass either.
 * - defaults: false — an absent field stays undefined, so tests see what was sent.
 * - oneofs: true — adds the virtual oneof name (e.g. http_response: 'ok_response').
 * google/protobuf/* come from protobufjs's bundled definitions (its loader resolves
 * any "google/protobuf/<x>.proto" import to them before touching includeDirs), so
 * Struct fields are camelCase there (nullValue, numberValue, ...) regardless of keepCase.
 */
export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: false,
  oneofs: true,
};

export interface ClaimcheckProtos {
  authorization: grpc.ServiceDefinition;
  health: grpc.ServiceDefinition;
  packageDefinition: protoLoader.PackageDefinition;
}

let cached: ClaimcheckProtos | undefined;

/** Loads claimcheck's own protos once. */
export function loadProtos(): ClaimcheckProtos {
  if (cached) return cached;
  const packageDefinition = protoLoader.loadSync(
    ['envoy/service/auth/v3/external_auth.proto', 'grpc/health/v1/health.proto'],
    { ...LOADER_OPTIONS, includeDirs: [PROTO_DIR] },
  );
  const authorization = packageDefinition['envoy.service.auth.v3.Authorization'];
  const health = packageDefinition['grpc.health.v1.Health'];
  if (!isService(authorization) || !isService(health)) {
    throw new Error('proto/ is missing the Authorization or Health service');
  }
  cached = { authorization, health, packageDefinition };
  return cached;
}

function isService(def: unknown): def is grpc.ServiceDefinition {
  // Message and enum definitions carry a `format` field; service definitions do not.
  return typeof def === 'object' && def !== null && !('format' in def);
}
