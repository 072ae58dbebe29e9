#!/usr/bin/env bash
# Builds Jaeger v2 (an OpenTelemetry Collector distribution: OTLP in over gRPC and HTTP, its
# query API out) once, from the Go module proxy, for the tracing tests' real OTLP receiver.
# Cached under ${CLAIMCHECK_CACHE:-~/.cache/claimcheck}/jaeger-<version>/; prints the
# binary's path on the last line of stdout.
set -euo pipefail
source "$(dirname "$0")/lib/tools.sh"
TOOL_NAME=jaeger-tool

VERSION="${CLAIMCHECK_JAEGER_VERSION:-v1.75.0}"
ROOT="$CACHE_ROOT/jaeger-${VERSION}"
BIN="$ROOT/bin/jaeger"
if [[ -x "$BIN" && -f "$ROOT/.built" ]]; then echo "$BIN"; exit 0; fi
need_go "Jaeger"
with_lock "$ROOT"
if [[ -x "$BIN" && -f "$ROOT/.built" ]]; then echo "$BIN"; exit 0; fi

go_env
mkdir -p "$ROOT/src" "$ROOT/bin"
cd "$ROOT/src"
# a wrapper module: `go get -tool` pins Jaeger and its whole dependency graph in go.mod
[[ -f go.mod ]] || go mod init local/jaeger-tool >/dev/null 2>&1
tool_log "building Jaeger ${VERSION} (once; several minutes)"
start=$SECONDS
heartbeat_start "building Jaeger"
quiet "$ROOT/resolve.log" go get -tool "github.com/jaegertracing/jaeger/cmd/jaeger@${VERSION}"
quiet "$ROOT/build.log" go build -ldflags "-s -w" -o "$BIN.tmp" github.com/jaegertracing/jaeger/cmd/jaeger
heartbeat_stop
mv "$BIN.tmp" "$BIN"
touch "$ROOT/.built"
tool_log "built in $(( SECONDS - start )) s"
echo "$BIN"
