#!/usr/bin/env bash
# Builds helm from the Go module proxy (there are no release downloads on the
# build machines, see docs/helm.md "Tests") into
#   ${CLAIMCHECK_CACHE:-~/.cache/claimcheck}/helm-<version>/bin
# and prints the binary's path on the last line of stdout. Idempotent: a cached
# binary is reused at once; a cold build takes a few minutes on 2 cores.
#   scripts/helm-tool.sh                       # the pinned version
#   HELM_VERSION=v3.21.4 scripts/helm-tool.sh  # another one
set -euo pipefail
source "$(dirname "$0")/lib/tools.sh"
TOOL_NAME=helm-tool

# Newest v3 release on the module proxy when this was written (v3.22.0 builds
# with Go 1.26; v3.21.4 is the fallback named in docs/testing).
HELM_VERSION="${HELM_VERSION:-v3.22.0}"
ROOT="$CACHE_ROOT/helm-${HELM_VERSION}"
BIN="$ROOT/bin/helm"

# The stamp records a finished build with the Makefile's version flags.
have() { [[ -x "$BIN" && -f "$ROOT/bin/.built" ]] && "$BIN" version --short >/dev/null 2>&1; }
if have; then echo "$BIN"; exit 0; fi
need_go "helm ${HELM_VERSION}"
with_lock "$ROOT"
if have; then echo "$BIN"; exit 0; fi

go_env
mkdir -p "$ROOT/bin"
tool_log "building helm ${HELM_VERSION} with $(go env GOVERSION) into $ROOT (once)"
start=$SECONDS
# The same -X flags as helm's Makefile: without the k8sVersion ones `helm
# template` and `helm lint` assume Kubernetes v1.20 and charts with a
# kubeVersion constraint fail. The Makefile derives them from k8s.io/client-go
# (v0.N.x -> 1.N).
GOMOD=$(go_mod_field "helm.sh/helm/v3@${HELM_VERSION}" GoMod)
KMINOR=$(sed -n 's|^[[:space:]]*k8s.io/client-go v0\.\([0-9]*\)\..*|\1|p' "$GOMOD")
KMINOR="${KMINOR%%$'\n'*}"
[[ -n "$KMINOR" ]] || { tool_log "cannot read the k8s.io/client-go version from $GOMOD"; exit 1; }
LDF="-s -w -X helm.sh/helm/v3/internal/version.version=${HELM_VERSION}"
for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
  LDF="$LDF -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=${KMINOR}"
done
heartbeat_start "building helm"
GOBIN="$ROOT/bin" go install -ldflags "$LDF" "helm.sh/helm/v3/cmd/helm@${HELM_VERSION}" >&2
heartbeat_stop
touch "$ROOT/bin/.built"
tool_log "built $("$BIN" version --short) in $(( SECONDS - start )) s"
echo "$BIN"
