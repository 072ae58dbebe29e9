/** What the Check adapter must encode; protobuf-free. */
import type { DenialCode } from '../grpc-code.js';

export interface HeaderToSet {
  name: string;
  value: string;
}

export interface OkPlan {
  kind: 'ok';
  headersToSet: HeaderToSet[];
  headersToRemove: string[];
  /** query parameter names to strip (OkHttpResponse.query_parameters_to_remove, Envoy >= 1.21) */
  queryParametersToRemove?: string[];
  dynamicMetadata?: Record<string, unknown>;
}

export interface DeniedPlan {
  kind: 'denied';
  /** CheckResponse.status.code: 3, 7, 14 or 16 from buildDenyPlan */
  grpcCode: DenialCode;
  httpStatus: number;
  headers: HeaderToSet[];
  body: string;
}

export type ResponsePlan = OkPlan | DeniedPlan;
