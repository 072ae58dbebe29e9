# The peer's policy: the same work as claimcheck's "orders" rule. Verify the RS256 bearer
# token against the same JWKS (signature, alg, iss, aud; exp and nbf are checked by
# decode_verify against the current time), require one scope, and hand the upstream the
# same identity header.
package envoy.authz

import rego.v1

bearer := t if {
	v := input.attributes.request.http.headers.authorization
	startswith(v, "Bearer ")
	t := substring(v, 7, -1)
}

verified := payload if {
	[valid, _, payload] := io.jwt.decode_verify(bearer, {
		"cert": data.bench.jwks,
		"alg": "RS256",
		"iss": data.bench.issuer,
		"aud": data.bench.audience,
	})
	valid
}

allow if {
	"orders:read" in split(verified.scope, " ")
}

default result := {"allowed": false, "http_status": 401}

result := {"allowed": true, "headers": {"x-user-id": verified.sub}} if allow
