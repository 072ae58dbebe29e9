#!/usr/bin/env bash
# Builds helm from the Go module proxy (there are no release downloads on the
# build machines, see docs/helm.md "Tests") into
#   ${CLAIMCHECK_CACHE:-~/.cache/claimcheck}/helm-<version>/   (bin, GOCACHE, GOMODCACHE)
# and prints the binary's path on the last line of stdout. Idempotent: a cached
# binary is reused at once; a cold build takes several minutes on 2 cores.
#   scripts/helm-tool.sh                       # the pinned version
#   HELM_VERSION=v3.21.4 scripts/helm-tool.sh  # another one
set -euo pipefail

# Newest v3 release on the module proxy when this was written (v3.22.0 builds
# with Go 1.26; v3.21.4 is the fallback named in docs/testing).
HELM_VERSION="${HELM_VERSION:-v3.22.0}"
ROOT="${CLAIMCHECK_CACHE:-$HOME/.cache/claimcheck}/helm-${HELM_VERSION}"
BIN="$ROOT/bin/helm"

# The stamp records a finished build with the Makefile's version flags.
have() { [[ -x "$BIN" && -f "$ROOT/bin/.built" ]] && "$BIN" version --short >/dev/null 2>&1; }
if have; then
  echo "$BIN"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "helm-tool: Go is not installed; cannot build helm ${HELM_VERSION}" >&2
  exit 3
fi

mkdir -p "$ROOT/bin"
# One build at a time (parallel test files may ask together).
exec 9>"$ROOT/.lock"
if ! flock -n 9; then
  echo "helm-tool: another build is running; waiting for it" >&2
  flock 9
fi
if have; then
  echo "$BIN"
  exit 0
fi

echo "helm-tool: building helm ${HELM_VERSION} with $(go version | cut -d' ' -f3) into $ROOT (once; a cold build takes several minutes) ..." >&2
start=$(date +%s)
export GOBIN="$ROOT/bin" GOCACHE="$ROOT/gocache" GOMODCACHE="$ROOT/gomodcache" \
  GOFLAGS="-modcacherw -buildvcs=false" GOTOOLCHAIN=local CGO_ENABLED=0
# The same -X flags as helm's Makefile: without the k8sVersion ones `helm
# template` and `helm lint` assume Kubernetes v1.20 and charts with a
# kubeVersion constraint fail. The Makefile derives them from k8s.io/client-go
# (v0.N.x -> 1.N).
GOMOD=$(go mod download -json "helm.sh/helm/v3@${HELM_VERSION}" | sed -n 's/.*"GoMod": "\([^"]*\)".*/\1/p')
KMINOR=$(sed -n 's|^[[:space:]]*k8s.io/client-go v0\.\([0-9]*\)\..*|\1|p' "$GOMOD" | head -1)
[[ -n "$KMINOR" ]] || { echo "helm-tool: cannot read the k8s.io/client-go version from $GOMOD" >&2; exit 1; }
LDF="-s -w -X helm.sh/helm/v3/internal/version.version=${HELM_VERSION}"
for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
  LDF="$LDF -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=${KMINOR}"
done
go install -trimpath -ldflags "$LDF" "helm.sh/helm/v3/cmd/helm@${HELM_VERSION}" >&2
touch "$ROOT/bin/.built"
echo "helm-tool: built $("$BIN" version --short) in $(( $(date +%s) - start ))s" >&2
echo "$BIN"
