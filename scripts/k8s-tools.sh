#!/usr/bin/env bash
# Builds etcd, kube-apiserver and kubectl from the Go module proxy for the
# Kubernetes test suite (see docs/kubernetes.md "Test harness").
#
# Debian's etcd (3.4) and kubectl (1.20) are too old, and there are no release
# downloads on the build machines, so the binaries are compiled from source.
# etcd and k8s.io/kubernetes carry `replace` directives, which `go install`
# refuses; a small wrapper module per tool replaces every staging module
# with its published version instead.
#
# Everything (binaries, GOCACHE, GOMODCACHE) lives under
#   ${CLAIMCHECK_CACHE:-~/.cache/claimcheck}/k8s-v<k8s>-etcd-v<etcd>/
# so the build happens once per version pair; later runs exit immediately.
#
# Usage: scripts/k8s-tools.sh           build if needed, print the bin dir
#        scripts/k8s-tools.sh --dir     print the bin dir only (no build)
set -euo pipefail

K8S_VERSION="${CLAIMCHECK_K8S_VERSION:-1.35.4}"
ETCD_VERSION="${CLAIMCHECK_ETCD_VERSION:-3.6.16}"
CACHE_ROOT="${CLAIMCHECK_CACHE:-$HOME/.cache/claimcheck}"
ROOT="$CACHE_ROOT/k8s-v$K8S_VERSION-etcd-v$ETCD_VERSION"
BIN="$ROOT/bin"

if [[ "${1:-}" == "--dir" ]]; then
  echo "$BIN"
  exit 0
fi

have_all() {
  [[ -x "$BIN/etcd" && -x "$BIN/kube-apiserver" && -x "$BIN/kubectl" ]]
}

if have_all; then
  echo "$BIN"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "k8s-tools: Go is not installed; cannot build etcd/kube-apiserver/kubectl" >&2
  exit 3
fi

log() { echo "k8s-tools: $*" >&2; }

# One build at a time: several test files may ask concurrently.
mkdir -p "$ROOT"
exec 9>"$ROOT/.lock"
if ! flock -n 9; then
  log "another build is running; waiting for it ($ROOT/.lock)"
  flock 9
fi
if have_all; then
  echo "$BIN"
  exit 0
fi

export GOCACHE="$ROOT/gocache"
export GOMODCACHE="$ROOT/gomodcache"
export GOFLAGS="-modcacherw -buildvcs=false"
export CGO_ENABLED=0
export GOTOOLCHAIN=local
mkdir -p "$BIN" "$ROOT/src"

START=$(date +%s)
log "building etcd v$ETCD_VERSION, kube-apiserver and kubectl v$K8S_VERSION with $(go version | cut -d' ' -f3)"
log "this happens once per version (cached afterwards) and takes a while: ~15 CPU-minutes, 20-40 min on a busy 2-core machine"
log "cache: $ROOT"

# --- etcd -------------------------------------------------------------------
if [[ ! -x "$BIN/etcd" ]]; then
  W="$ROOT/src/etcd"
  rm -rf "$W" && mkdir -p "$W" && cd "$W"
  go mod init local/etcd-tools >/dev/null 2>&1
  log "[1/3] etcd: resolving modules"
  go get -tool "go.etcd.io/etcd/server/v3@v$ETCD_VERSION" >&2
  log "[1/3] etcd: compiling"
  go build -trimpath -ldflags "-s -w" -o "$BIN/etcd.tmp" go.etcd.io/etcd/server/v3
  mv "$BIN/etcd.tmp" "$BIN/etcd"
  log "[1/3] etcd: done ($(( $(date +%s) - START ))s)"
fi

# --- kube-apiserver + kubectl -------------------------------------------------
if [[ ! -x "$BIN/kube-apiserver" || ! -x "$BIN/kubectl" ]]; then
  W="$ROOT/src/kube"
  rm -rf "$W" && mkdir -p "$W" && cd "$W"
  go mod init local/kube-tools >/dev/null 2>&1
  STAGING="v0.${K8S_VERSION#1.}"
  log "[2/3] kubernetes: resolving modules (staging modules pinned to $STAGING)"
  GOMOD=$(go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" | sed -n 's/.*"GoMod": "\([^"]*\)".*/\1/p')
  [[ -f "$GOMOD" ]] || { log "cannot download k8s.io/kubernetes@v$K8S_VERSION"; exit 1; }
  for m in $(sed -n 's|^[[:space:]]*\(k8s.io/[^ ]*\) => ./staging/.*|\1|p' "$GOMOD"); do
    go mod edit "-replace=$m=$m@$STAGING"
  done
  go get -tool "k8s.io/kubernetes/cmd/kube-apiserver@v$K8S_VERSION" "k8s.io/kubernetes/cmd/kubectl@v$K8S_VERSION" >&2
  # Same variables hack/lib/version.sh sets; without them /version says
  # v0.0.0 and kubeVersion checks (helm) fail.
  MAJOR="${K8S_VERSION%%.*}"; REST="${K8S_VERSION#*.}"; MINOR="${REST%%.*}"
  LDF="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    LDF="$LDF -X $pkg.gitVersion=v$K8S_VERSION -X $pkg.gitMajor=$MAJOR -X $pkg.gitMinor=$MINOR"
    LDF="$LDF -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  log "[3/3] kube-apiserver + kubectl: compiling (the long step)"
  go build -trimpath -ldflags "$LDF" -o "$BIN/kube-apiserver.tmp" k8s.io/kubernetes/cmd/kube-apiserver
  mv "$BIN/kube-apiserver.tmp" "$BIN/kube-apiserver"
  log "[3/3] kube-apiserver: done ($(( $(date +%s) - START ))s)"
  go build -trimpath -ldflags "$LDF" -o "$BIN/kubectl.tmp" k8s.io/kubernetes/cmd/kubectl
  mv "$BIN/kubectl.tmp" "$BIN/kubectl"
  log "[3/3] kubectl: done ($(( $(date +%s) - START ))s)"
fi

# The Go caches only served this build (the directory is keyed by version): free the ~3 GB.
rm -rf "$GOCACHE" "$GOMODCACHE" "$ROOT/src"

"$BIN/etcd" --version | head -1 >&2
"$BIN/kubectl" version --client 2>/dev/null | head -1 >&2 || true
log "all binaries built in $(( $(date +%s) - START ))s: $BIN"
echo "$BIN"
