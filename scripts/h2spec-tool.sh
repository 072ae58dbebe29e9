#!/usr/bin/env bash
# Builds h2spec (HTTP/2 conformance tests, RFC 7540/9113 and HPACK) from the Go module proxy
# into ${CLAIMCHECK_CACHE:-~/.cache/claimcheck}/h2spec-<version>/bin and prints the binary's
# path on the last line of stdout. Idempotent: a cached binary is reused at once.
# test/integration/h2spec.test.ts runs it against the gRPC listener.
set -euo pipefail
source "$(dirname "$0")/lib/tools.sh"
TOOL_NAME=h2spec-tool

# v2 has no go.mod, so the proxy serves it as +incompatible
H2SPEC_VERSION="${H2SPEC_VERSION:-v2.2.1+incompatible}"
ROOT="$CACHE_ROOT/h2spec-${H2SPEC_VERSION}"
BIN="$ROOT/bin/h2spec"

have() { [[ -x "$BIN" && -f "$ROOT/bin/.built" ]]; }
if have; then echo "$BIN"; exit 0; fi
need_go "h2spec ${H2SPEC_VERSION}"
with_lock "$ROOT"
if have; then echo "$BIN"; exit 0; fi

go_env
mkdir -p "$ROOT/bin"
tool_log "building h2spec ${H2SPEC_VERSION} with $(go env GOVERSION) into $ROOT (once)"
start=$SECONDS
heartbeat_start "building h2spec"
quiet "$ROOT/build.log" env GOBIN="$ROOT/bin" go install -ldflags "-s -w" "github.com/summerwind/h2spec/cmd/h2spec@${H2SPEC_VERSION}"
heartbeat_stop
touch "$ROOT/bin/.built"
tool_log "built h2spec in $(( SECONDS - start )) s"
echo "$BIN"
