#!/usr/bin/env bash
# Compiles claimcheck's proto/ with protoc (the reference compiler, from PyPI's
# grpcio-tools) into the FileDescriptorSet that the tests' protobuf reference,
# @bufbuild/protobuf, reads (test/oracle/reference-codec.ts). The output is committed,
# so tests need neither Python nor protoc; rerun this after editing proto/
# (test/unit/reference-descriptors.test.ts fails until then).
#   scripts/gen-test-descriptors.sh
set -euo pipefail
source "$(dirname "$0")/lib/tools.sh"
TOOL_NAME=gen-test-descriptors

GRPCIO_TOOLS_VERSION="1.76.0"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="$CACHE_ROOT/grpcio-tools-$GRPCIO_TOOLS_VERSION"
OUT="$ROOT/test/oracle/claimcheck-protos.binpb"

if [[ ! -x "$VENV/bin/python" ]] || ! "$VENV/bin/python" -c 'import grpc_tools' 2>/dev/null; then
  with_lock "$VENV"
  if ! "$VENV/bin/python" -c 'import grpc_tools' 2>/dev/null; then
    tool_log "installing grpcio-tools $GRPCIO_TOOLS_VERSION into $VENV (once)"
    python3 -m venv "$VENV"
    quiet "$VENV/pip.log" "$VENV/bin/pip" install --quiet "grpcio-tools==$GRPCIO_TOOLS_VERSION"
  fi
fi

WKT=$("$VENV/bin/python" -c 'import grpc_tools, os; print(os.path.join(os.path.dirname(grpc_tools.__file__), "_proto"))')
"$VENV/bin/python" -m grpc_tools.protoc \
  -I "$ROOT/proto" -I "$WKT" \
  --include_imports \
  --descriptor_set_out="$OUT" \
  envoy/service/auth/v3/external_auth.proto grpc/health/v1/health.proto
tool_log "wrote $OUT ($(first_line "$VENV/bin/python" -m grpc_tools.protoc --version))"
