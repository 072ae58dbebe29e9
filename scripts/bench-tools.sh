#!/usr/bin/env bash
# Installs the benchmark tools (idempotent; cached under ~/.cache/claimcheck/,
# keyed by version so later runs start in seconds):
#   ghz               gRPC load generator (drives every scenario, incl. distinct-token pools)
#   peer-opa          the peer: OPA evaluating Rego behind ext_authz gRPC (bench/peer-opa)
#   h2load            (nghttp2-client) raw HTTP/2 load tool, kept for ad-hoc runs
# Usage: scripts/bench-tools.sh [--print-paths]
# The first build takes several minutes on 2 cores (OPA is large).
set -euo pipefail

GHZ_VERSION="v0.121.0"
OPA_VERSION="v1.22.3"               # must match bench/peer-opa/go.mod
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${CLAIMCHECK_CACHE:-$HOME/.cache/claimcheck}"
GHZ_DIR="$CACHE/bench-ghz-$GHZ_VERSION"

if [[ "${1:-}" == "--print-paths" ]]; then
  echo "GHZ=$GHZ_DIR/bin/ghz"
  echo "PEER_OPA=$(ls -d "$CACHE"/bench-peer-opa-"$OPA_VERSION"-*/bin/peer-opa 2>/dev/null | tail -1)"
  echo "H2LOAD=$(command -v h2load || true)"
  exit 0
fi

log() { echo "[bench-tools $(date +%H:%M:%S)] $*"; }

if ! command -v h2load >/dev/null 2>&1; then
  log "installing nghttp2-client (h2load) from Debian"
  { apt-get update -qq && apt-get install -y -qq nghttp2-client >/dev/null; } || log "h2load not installed (optional: only for ad-hoc cross-checks)"
fi
log "h2load: $(command -v h2load || echo none)"

if ! command -v go >/dev/null 2>&1; then
  log "SKIP go tools: Go is not installed (ghz and the OPA peer are built with go)"
  exit 0
fi

# go_install DIR MODULE@VERSION BINARY
go_install() {
  local dir="$1" mod="$2" bin="$3"
  if [[ -x "$dir/bin/$bin" ]]; then
    log "$bin: cached at $dir/bin/$bin"
    return 0
  fi
  mkdir -p "$dir/bin" "$dir/gocache" "$dir/gomod"
  log "building $mod (once; takes minutes on 2 cores)"
  local start=$SECONDS
  # -x would be too chatty; print a heartbeat instead so a long build shows progress.
  ( while sleep 30; do log "  ... still building $bin ($((SECONDS - start))s)"; done ) &
  local hb=$!
  local rc=0
  GOBIN="$dir/bin" GOCACHE="$dir/gocache" GOMODCACHE="$dir/gomod" GOFLAGS=-modcacherw \
    go install "$mod" || rc=$?
  kill "$hb" 2>/dev/null || true
  wait "$hb" 2>/dev/null || true
  if [[ $rc -ne 0 ]]; then
    log "FAILED to build $mod (exit $rc)"
    return $rc
  fi
  log "$bin: built in $((SECONDS - start))s -> $dir/bin/$bin"
  # Build cache is only needed for rebuilds; the binary is what we keep.
  rm -rf "$dir/gocache"
}

# The peer: OPA behind an ext_authz gRPC server (bench/peer-opa). opa-envoy-plugin itself is
# not served by the Go module proxy this project reaches (403 for every version), so the
# peer is built from OPA's Go packages (version pinned in bench/peer-opa/go.mod).
# Keyed by the sources' hash, so an edited peer is rebuilt.
build_peer() {
  local src="$ROOT/bench/peer-opa"
  local key
  key=$(cat "$src/go.mod" "$src/go.sum" "$src/main.go" | sha256sum | cut -c1-12)
  local dir="$CACHE/bench-peer-opa-$OPA_VERSION-$key"
  if [[ -x "$dir/bin/peer-opa" ]]; then
    log "peer-opa: cached at $dir/bin/peer-opa"
    return 0
  fi
  mkdir -p "$dir/bin" "$CACHE/bench-peer-opa-gomod" "$CACHE/bench-peer-opa-gocache"
  log "building the OPA peer ($OPA_VERSION, once; takes minutes on 2 cores)"
  local start=$SECONDS
  ( while sleep 30; do log "  ... still building peer-opa ($((SECONDS - start))s)"; done ) &
  local hb=$!
  local rc=0
  ( cd "$src" && GOCACHE="$CACHE/bench-peer-opa-gocache" GOMODCACHE="$CACHE/bench-peer-opa-gomod" GOFLAGS=-modcacherw \
      go build -trimpath -o "$dir/bin/peer-opa" . ) || rc=$?
  kill "$hb" 2>/dev/null || true
  wait "$hb" 2>/dev/null || true
  if [[ $rc -ne 0 ]]; then
    log "FAILED to build the OPA peer (exit $rc)"
    return $rc
  fi
  log "peer-opa: built in $((SECONDS - start))s -> $dir/bin/peer-opa"
}

go_install "$GHZ_DIR" "github.com/bojand/ghz/cmd/ghz@$GHZ_VERSION" ghz
build_peer
log "done"
