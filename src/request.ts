/** The domain view of one Envoy CheckRequest; only grpc/ knows the protobuf shape. */
export interface Peer {
  principal: string;
  address: string;
  /**
   * The peer's certificate as PEM (Envoy's attributes.source.certificate, sent URL-encoded
   * with include_peer_certificate: true); absent when none came or it did not decode.
   */
  certificate?: string;
}

export interface AuthRequest {
  method: string;
  /** :authority as sent (not yet normalised) */
  host: string;
  /** raw request target: path plus query string, not decoded */
  path: string;
  /**
   * Lowercase header name -> one value per occurrence. From Envoy's `headers` map a
   * repeated header arrives as one comma-joined value; from `header_map` as several.
   */
  headers: ReadonlyMap<string, readonly string[]>;
  contextExtensions: Readonly<Record<string, string>>;
  /** x-request-id if present, else Envoy's attributes.request.http.id */
  requestId: string;
  scheme: string;
  source: Peer;
  destination: Peer;
}
