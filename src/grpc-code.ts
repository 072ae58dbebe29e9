/**
 * google.rpc.Code, the gRPC status codes (github.com/grpc/grpc/blob/master/doc/statuscodes.md):
 * the one table for the transport's statuses and for CheckResponse.status in denials.
 */
export const GrpcCode = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

export type GrpcCode = (typeof GrpcCode)[keyof typeof GrpcCode];

/** What a denial carries in CheckResponse.status: anything but OK, which Envoy reads as an allow. */
export type DenialCode = Exclude<GrpcCode, typeof GrpcCode.OK>;
