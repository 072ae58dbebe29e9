/**
 * Every flag of every command, once. The argv parser (read-flags.ts), `--help`
 * (usage.ts) and the flag tables of docs/operations.md and docs/kubernetes.md
 * (scripts/gen-flag-docs.ts) are generated from this table.
 */
import { listFlag, oneOf, optional, switchFlag, text, withDefault, bool } from './flag.js';
import { autoOrPositiveInt, durationMs, fraction, headerPair, headerPrefix, identityIssuer, listenAddr, nonNegativeInt, positiveDurationMs, positiveInt, replayStore } from './flag-values.js';
import { GRPC_FLAGS } from './grpc-flags.js';
import { KUBERNETES_FLAGS } from './kubernetes-flags.js';
import { TLS_FLAGS } from './tls-flags.js';
import { LIMIT_FLAGS } from './limit-flags.js';

const CONFIG = ['serve', 'check'] as const;

export const FLAGS = {
  'config-source': withDefault(['serve'], 'file', oneOf(['file', 'kubernetes'] as const), {
    value: 'file|kubernetes',
    help: 'where resources come from: a directory of YAML, or the CRDs through the API server',
    doc: '`file` (a directory of YAML) or `kubernetes` (the CRDs through the API server; its flags are in [kubernetes.md](kubernetes.md#flags))',
  }),
  'config-dir': optional(CONFIG, text, {
    value: 'DIR',
    defaultText: './config if it exists, else the bundled examples',
    help: 'directory read recursively for *.yaml and *.yml (file source)',
    doc: 'directory read recursively for `*.yaml` / `*.yml`; it must exist. Without the flag: `./config` when it exists, else the bundled `examples/`, which trust a **published demo key** (a warning says so, and the listeners bind 127.0.0.1 unless an address is given)',
  }),
  'grpc-addr': optional(['serve'], listenAddr(true), {
    value: 'HOST:PORT|unix:PATH',
    defaultText: '0.0.0.0:9191 (127.0.0.1:9191 on the bundled examples)',
    help: 'gRPC listen address (Envoy ext_authz and grpc.health.v1)',
    doc: '`HOST:PORT`, `[IPv6]:PORT`, `:PORT` (every interface, IPv4 and IPv6) or `unix:/path.sock` (a stale socket file is replaced); a host name listens on the first address it resolves to',
  }),
  ...GRPC_FLAGS,
  'http-addr': optional(['serve'], listenAddr(false), {
    value: 'HOST:PORT',
    defaultText: '0.0.0.0:9090 (127.0.0.1:9090 on the bundled examples)',
    help: '/healthz, /readyz and /metrics',
    doc: '/healthz, /readyz and /metrics; with `--identity-issuer`, the identity tokens\' discovery document and JWKS ([identity-tokens.md](identity-tokens.md))',
  }),
  'authz-http-addr': optional(['serve'], listenAddr(true), {
    value: 'HOST:PORT|unix:PATH',
    defaultText: 'off',
    help: 'HTTP authorization listener: Envoy http_service on /ext-authz/, forward auth on /forward-auth',
    doc: 'the HTTP authorization listener ([http-authz.md](http-authz.md)): Envoy and Istio `http_service` on `/ext-authz/<path>`, Traefik, Caddy and nginx forward auth on `/forward-auth`; off unless set. Same address forms as `--grpc-addr`. For proxies only: keep clients off it',
  }),
  ...TLS_FLAGS,
  'unmatched-host': withDefault(['serve'], 'deny', oneOf(['deny', 'allow'] as const), {
    value: 'deny|allow',
    help: 'what a request for a host without a policy gets',
    doc: '`allow` lets requests for hosts without a policy through (identity headers still stripped)',
  }),
  namespace: optional(['serve', 'check', 'validate', 'test'], text, {
    value: 'NS',
    defaultText: '$POD_NAMESPACE, else default',
    help: "claimcheck's own namespace: its issuers are mesh-wide",
    doc: "claimcheck's own namespace: its issuers are visible mesh-wide; file-source resources without `metadata.namespace` belong to it",
  }),
  'reserved-header-prefix': withDefault(['serve'], 'x-claimcheck-', headerPrefix, {
    value: 'PREFIX',
    help: 'every incoming header with this prefix is removed from allowed requests',
  }),
  'max-token-bytes': withDefault(['serve', 'check', 'test'], '16384', positiveInt, {
    value: 'N',
    help: 'longer tokens are a 401 without being parsed',
  }),
  'drain-timeout': withDefault(['serve'], '10s', durationMs(), {
    value: 'DURATION',
    help: 'on SIGTERM: health turns NOT_SERVING, in-flight Checks finish for up to this long',
  }),
  ...LIMIT_FLAGS,
  'keys-ready-timeout': withDefault(['serve'], '5s', durationMs(), {
    value: 'DURATION',
    help: "at startup, how long readiness waits for every issuer's first key load",
  }),
  'ready-requires-keys': withDefault(['serve'], 'false', bool, {
    value: 'true|false',
    help: 'readiness (and gRPC health) also requires every referenced issuer to have usable keys',
    doc: '`true`: `/readyz` and gRPC health are SERVING only while every issuer a policy references has usable keys, so a replica whose IdP is unreachable leaves the Service; `false`: a failed issuer counts as settled (its requests get 503 denials). See [Health and readiness](#health-and-readiness) for the trade-off; the Helm chart sets `true`',
  }),
  'log-level': withDefault(['serve'], 'info', oneOf(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const), {
    value: 'LEVEL',
    help: 'trace, debug, info, warn, error, fatal or silent',
  }),
  workers: withDefault(['serve'], 'auto', autoOrPositiveInt, {
    value: 'N|auto',
    help: 'gRPC worker processes (node:cluster); auto: the CPUs the container may use',
    doc: 'gRPC worker processes (`node:cluster`); the primary serves `/metrics` summed over workers and `/readyz` for all of them ([performance.md](performance.md#multi-core---workers-n)). `auto`: the CPUs this process may use, the smallest of the cgroup CPU quota (`cpu.max`, or cgroup v1 `cpu.cfs_quota_us`; a fraction rounds down, at least 1), the cgroup cpuset and `os.availableParallelism()`; 1 on a unix socket. The decision is logged at start',
  }),
  'token-cache-size': withDefault(['serve'], '100000', nonNegativeInt, {
    value: 'N',
    help: 'verified tokens remembered; 0 turns the cache off',
    doc: 'verified tokens remembered (keyed by SHA-256, ~55 bytes each; the 10,000 most recently reused also keep their parsed claims; never past `exp`, dropped on issuer or key changes); `0` turns it off ([performance.md](performance.md#the-verified-token-cache))',
  }),
  'answer-cache-size': withDefault(['serve'], '10000', nonNegativeInt, {
    value: 'N',
    help: 'HTTP authorization listener: allowed answers remembered for requests that repeat them; 0 turns it off',
    doc: 'HTTP authorization listener: allowed answers remembered for requests that repeat them (keyed by what the answer depends on, the credential by its SHA-256; never past `exp`, dropped on any configuration or key change; not for rules with a CEL `condition`); `0` turns it off ([http-authz.md](http-authz.md#answer-cache))',
  }),
  'dpop-nonce-secret-file': optional(['serve'], text, {
    value: 'FILE',
    defaultText: 'a random secret per process',
    help: 'DPoP nonces: a file of at least 32 bytes shared by every replica',
    doc: 'DPoP nonces (`senderConstraint.dpop.nonce: true`) are derived from this file\'s bytes (at least 32; a trailing newline is not part of them), so every replica that reads the same file accepts every replica\'s nonce ([sender-constrained.md](sender-constrained.md#nonces))',
  }),
  'replay-store': withDefault(['serve'], 'memory', replayStore, {
    value: 'memory|redis://HOST:PORT[/DB]',
    help: 'where DPoP proof ids are remembered to refuse a replay',
    doc: '`memory`: each replica remembers the proofs it saw (`--replay-store-size`; past that a new proof is a 503 until old ones expire), so a proof can be replayed once on each other replica within `proofMaxAge`. `redis://HOST:PORT[/DB]`: one store for every replica (`SET NX PX`); while Redis cannot answer within 100 ms every DPoP request is a 503 ([sender-constrained.md](sender-constrained.md#replay))',
  }),
  'replay-store-size': withDefault(['serve'], '200000', positiveInt, {
    value: 'N',
    help: 'DPoP proofs the memory replay store holds (~120 bytes each)',
    doc: 'DPoP proofs the memory replay store holds at once, ~120 bytes each (200,000: ~24 MB). A proof stays `proofMaxAge` + 5 s, so the default covers ~3,000 new proofs a second per replica at the default 60 s; past it new proofs are 503s',
  }),
  'identity-issuer': optional(['serve'], identityIssuer, {
    value: 'URL',
    defaultText: 'none: policies with identity.token are refused',
    help: 'the iss of the identity tokens claimcheck signs; where its HTTP address is reached',
    doc: 'The `iss` of every identity token (`identity.token`, [identity-tokens.md](identity-tokens.md)), an `http` or `https` URL without query or fragment. The HTTP address (`--http-addr`) serves `<path>/.well-known/openid-configuration` and `<path>/.well-known/jwks.json` of it, so it must be the URL other services reach that address at. Needs `--identity-key-dir`; without it a policy with `identity.token` is refused',
  }),
  'identity-key-dir': optional(['serve'], text, {
    value: 'DIR',
    help: 'private keys for identity tokens (*.pem or *.json), watched',
    doc: 'Private keys of the identity tokens: `*.pem` files (PKCS#8, SEC1 or PKCS#1; the kid is the file name without `.pem`) and `*.json` private JWKs with a `kid`. ES256 (P-256), EdDSA (Ed25519), RS256 or PS256 (RSA of at least 2048 bits). Watched: a new or changed file is published in the JWKS within 2 s; a file that cannot be used is logged and its last good key stays. Every key is published; `--identity-signing-key` picks the one that signs',
  }),
  'identity-signing-key': optional(['serve'], text, {
    value: 'KID',
    defaultText: 'the only key in the directory',
    help: 'the kid that signs identity tokens (needed with several keys)',
    doc: 'The `kid` of the key that signs identity tokens; needed when `--identity-key-dir` holds more than one key. While it names no usable key, requests that need an identity token are 503s (`identity_token_unavailable`)',
  }),
  'decision-log': withDefault(['serve'], 'true', bool, {
    value: 'true|false',
    group: 'decision-log',
    help: 'false turns the decision log off (decisions are still counted)',
    doc: '`false` turns the [decision log](#decision-log) off (decisions are still counted)',
  }),
  'decision-log-allow-sample': withDefault(['serve'], '0', fraction, {
    value: 'FRACTION',
    group: 'decision-log',
    help: 'fraction of allowed requests written to the decision log, 0 to 1',
  }),
  'decision-log-subject': withDefault(['serve'], 'true', bool, {
    value: 'true|false',
    group: 'decision-log',
    help: "false leaves the token's sub out of decision lines",
  }),
  'decision-log-jti': withDefault(['serve'], 'true', bool, {
    value: 'true|false',
    group: 'decision-log',
    help: "false leaves the token's jti out of decision lines",
  }),
  ...KUBERNETES_FLAGS,
  host: optional(['check'], text, { value: 'HOST', help: "the request's host (:authority); required" }),
  path: optional(['check'], text, { value: 'PATH', help: "the request's path and query; required" }),
  method: withDefault(['check'], 'GET', (raw) => raw.toUpperCase(), { value: 'METHOD', help: "the request's method" }),
  token: optional(['check'], text, { value: 'JWT', help: 'sent as Authorization: Bearer JWT' }),
  header: listFlag(['check'], headerPair, { value: 'NAME=VALUE', help: 'a request header; repeat for more' }),
  policy: optional(['check'], text, { value: 'NS/NAME', help: 'pick the policy as the claimcheck.io/policy context extension would' }),
  json: switchFlag(['check'], { help: 'print the decision and its explanation as JSON' }),
  'explain-keys': switchFlag(['check'], { help: "also print each issuer's key state and last fetch error" }),
  'key-wait': withDefault(['check'], '10s', durationMs(), {
    value: 'DURATION',
    help: 'how long check waits for the issuers\' keys before deciding',
  }),
  addr: withDefault(['healthcheck'], '127.0.0.1:9191', listenAddr(true), {
    value: 'HOST:PORT|unix:PATH',
    env: 'CLAIMCHECK_HEALTHCHECK_ADDR',
    help: 'the gRPC address to ask',
  }),
  service: withDefault(['healthcheck'], '', text, { value: 'NAME', env: 'CLAIMCHECK_HEALTHCHECK_SERVICE', help: 'the grpc.health.v1 service name; empty: the whole server' }),
  'tls-ca': optional(['healthcheck'], text, { value: 'FILE', env: 'CLAIMCHECK_HEALTHCHECK_TLS_CA', help: 'connect with TLS, trusting these PEM CA certificates (a listener with --grpc-tls-cert)' }),
  'tls-cert': optional(['healthcheck'], text, { value: 'FILE', env: 'CLAIMCHECK_HEALTHCHECK_TLS_CERT', help: 'PEM client certificate, for a listener with --grpc-tls-client-ca' }),
  'tls-key': optional(['healthcheck'], text, { value: 'FILE', env: 'CLAIMCHECK_HEALTHCHECK_TLS_KEY', help: 'PEM private key of --tls-cert' }),
  timeout: withDefault(['healthcheck'], '3s', positiveDurationMs, { value: 'DURATION', env: 'CLAIMCHECK_HEALTHCHECK_TIMEOUT', help: 'give up after this long' }),
  sub: withDefault(['demo-token'], 'demo-user', text, { value: 'SUB', help: 'the sub claim (subject)' }),
  scope: withDefault(['demo-token'], 'api:read', text, { value: 'SCOPES', help: 'the scope claim (space separated)' }),
  tenant: optional(['demo-token'], text, { value: 'TENANT', help: 'a tenant claim' }),
  ttl: withDefault(['demo-token'], '15m', positiveDurationMs, { value: 'DURATION', help: 'lifetime of the token (exp - iat)' }),
  jti: optional(['demo-token'], text, { value: 'ID', help: 'the jti claim (token id)' }),
  aud: withDefault(['demo-token'], 'demo-api', text, { value: 'AUD', help: 'the aud claim (audience)' }),
} as const;

export type FlagName = keyof typeof FLAGS;
