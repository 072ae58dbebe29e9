#!/usr/bin/env bash
# Installs the benchmark tools (idempotent; cached under ~/.cache/claimcheck/,
# keyed by version so later runs start in seconds):
#   ghz       gRPC load generator (drives every gRPC scenario, incl. distinct-token pools)
#   peer-opa  the peer: OPA evaluating Rego behind ext_authz gRPC (bench/peer-opa);
#             only for `npm run bench`, not for the smoke test in CI (--ci skips it)
#   h2load    (nghttp2-client) raw HTTP/2 and HTTP/1.1 load tool, kept for ad-hoc runs
#             (the HTTP/1.1 bench rows use bench/http1-load.ts: h2load cannot send a
#             new token per request)
# Usage: scripts/bench-tools.sh [--ci] [--print-paths]
set -euo pipefail
source "$(dirname "$0")/lib/tools.sh"
TOOL_NAME=bench-tools

GHZ_VERSION="v0.121.0"
OPA_VERSION="v1.22.3"               # must match bench/peer-opa/go.mod
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
GHZ_DIR="$CACHE_ROOT/bench-ghz-$GHZ_VERSION"
CI_ONLY=0
[[ "${1:-}" == "--ci" ]] && CI_ONLY=1

peer_dir() {
  local src="$ROOT/bench/peer-opa" key
  key=$(cat "$src/go.mod" "$src/go.sum" "$src/main.go" | sha256sum)
  echo "$CACHE_ROOT/bench-peer-opa-$OPA_VERSION-${key:0:12}"
}

if [[ "${1:-}" == "--print-paths" ]]; then
  echo "GHZ=$GHZ_DIR/bin/ghz"
  echo "PEER_OPA=$(peer_dir)/bin/peer-opa"
  echo "H2LOAD=$(command -v h2load || true)"
  exit 0
fi

if ! command -v h2load >/dev/null 2>&1 && [[ $CI_ONLY -eq 0 ]]; then
  tool_log "installing nghttp2-client (h2load) from Debian"
  { apt-get update -qq && apt-get install -y -qq nghttp2-client >/dev/null; } || tool_log "h2load not installed (optional: only for ad-hoc cross-checks)"
fi

need_go "ghz and the OPA peer"
go_env

build_ghz() {
  if [[ -x "$GHZ_DIR/bin/ghz" ]]; then tool_log "ghz: cached at $GHZ_DIR/bin/ghz"; return 0; fi
  with_lock "$GHZ_DIR"
  [[ -x "$GHZ_DIR/bin/ghz" ]] && return 0
  tool_log "building ghz $GHZ_VERSION (once)"
  local start=$SECONDS
  heartbeat_start "building ghz"
  mkdir -p "$GHZ_DIR/bin"
  GOBIN="$GHZ_DIR/bin" go install -ldflags "-s -w" "github.com/bojand/ghz/cmd/ghz@$GHZ_VERSION"
  heartbeat_stop
  tool_log "ghz: built in $((SECONDS - start)) s"
}

# The peer: OPA behind an ext_authz gRPC server (bench/peer-opa). opa-envoy-plugin itself is
# not served by the Go module proxy this project reaches (403 for every version), so the
# peer is built from OPA's Go packages (version pinned in bench/peer-opa/go.mod).
# Keyed by the sources' hash, so an edited peer is rebuilt.
build_peer() {
  local dir; dir=$(peer_dir)
  if [[ -x "$dir/bin/peer-opa" ]]; then tool_log "peer-opa: cached at $dir/bin/peer-opa"; return 0; fi
  with_lock "$dir"
  [[ -x "$dir/bin/peer-opa" ]] && return 0
  tool_log "building the OPA peer ($OPA_VERSION, once; several minutes on 2 cores)"
  local start=$SECONDS
  heartbeat_start "building the OPA peer"
  mkdir -p "$dir/bin"
  ( cd "$ROOT/bench/peer-opa" && go build -o "$dir/bin/peer-opa.tmp" . )
  mv "$dir/bin/peer-opa.tmp" "$dir/bin/peer-opa"
  heartbeat_stop
  tool_log "peer-opa: built in $((SECONDS - start)) s"
}

build_ghz
[[ $CI_ONLY -eq 1 ]] || build_peer
tool_log "done"
