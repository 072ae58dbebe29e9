import { doc, durationSchema, type JsonSchema } from './common.js';

/** Asymmetric JWS algorithms a DPoP proof may use (RFC 9449 §4.3 step 5: never none, never a MAC). */
export const DPOP_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512', 'EdDSA'] as const;

export const senderConstraintSchema: JsonSchema = {
  type: 'object',
  description: doc(
    'Sender-constrained tokens (docs/sender-constrained.md). Whatever is set here, a token whose payload binds it to a key',
    '(`cnf.jkt`, RFC 9449) is accepted only with a valid DPoP proof of that key, one bound to a client certificate',
    '(`cnf["x5t#S256"]`, RFC 8705) only from a client presenting that certificate, and neither as a plain bearer token. A',
    'rule\'s `require.senderConstraint` overrides these fields one by one.',
  ),
  properties: {
    required: {
      type: 'boolean',
      default: false,
      description: '`true`: a token without `cnf` is a 401 `invalid_token` ("token is not sender-constrained").',
      examples: [true],
    },
    dpop: {
      type: 'object',
      description: 'How DPoP proofs (the `DPoP` request header, RFC 9449 §4) are checked.',
      properties: {
        algorithms: {
          type: 'array',
          minItems: 1,
          items: { type: 'string', enum: [...DPOP_ALGORITHMS] },
          default: ['ES256', 'PS256', 'EdDSA'],
          description: 'The proof algorithms accepted, also named in the challenge\'s `algs`.',
          examples: [['ES256', 'EdDSA']],
        },
        proofMaxAge: {
          ...durationSchema,
          default: '60s',
          description: doc(
            'A proof whose `iat` is older than this is refused, and so is one more than 5 s ahead. Its `jti` is remembered',
            'this long (plus 5 s) to refuse a replay. At most 5m.',
          ),
          examples: ['30s'],
        },
        nonce: {
          type: 'boolean',
          default: false,
          description: doc(
            '`true`: a proof must carry a nonce claimcheck issued (RFC 9449 §8); without one, or with a stale one, the answer',
            'is a 401 `use_dpop_nonce` with a fresh nonce in `DPoP-Nonce`. Nonces come from `--dpop-nonce-secret-file`, so',
            'every replica accepts every replica\'s.',
          ),
          examples: [true],
        },
        origin: {
          type: 'string',
          pattern: '^$|^https?://[^/?#\\s]+$',
          default: '',
          description: doc(
            'The public `scheme://host[:port]` a proof\'s `htu` is compared against, when the request\'s own scheme and host',
            '(as Envoy or the proxy reports them) are not what the client addressed. Empty: the request\'s scheme and host.',
          ),
          examples: ['https://api.example.com'],
        },
      },
      additionalProperties: false,
    },
    mtls: {
      type: 'object',
      description: 'Where the client certificate a `cnf["x5t#S256"]` token is compared with comes from (RFC 8705 §3).',
      properties: {
        certificate: {
          type: 'string',
          enum: ['envoy', 'xfcc'],
          default: 'envoy',
          description: doc(
            '`envoy`: the certificate Envoy saw, `attributes.source.certificate` (the ext_authz filter needs',
            '`include_peer_certificate: true`); an `x-forwarded-client-cert` header is then ignored, whoever sent it. `xfcc`: the',
            '`Hash=` (or `Cert=`) of the last element of `x-forwarded-client-cert`, for a claimcheck behind a proxy that',
            'terminates the client\'s TLS and sets that header itself (Istio, Envoy with `forward_client_cert_details:',
            'SANITIZE_SET`); never where a client can send the header.',
          ),
          examples: ['xfcc'],
        },
      },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
};
