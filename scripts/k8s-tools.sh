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
# Binaries:  ${CLAIMCHECK_CACHE:-~/.cache/claimcheck}/k8s-v<k8s>-etcd-v<etcd>/bin
# Go caches: shared by every tool script (scripts/lib/tools.sh)
# The build happens once per version pair; later runs exit at once.
#
# Usage: scripts/k8s-tools.sh           build if needed, print the bin dir
#        scripts/k8s-tools.sh --dir     print the bin dir only (no build)
set -euo pipefail
source "$(dirname "$0")/lib/tools.sh"
TOOL_NAME=k8s-tools

K8S_VERSION="${CLAIMCHECK_K8S_VERSION:-1.35.4}"
ETCD_VERSION="${CLAIMCHECK_ETCD_VERSION:-3.6.16}"
ROOT="$CACHE_ROOT/k8s-v$K8S_VERSION-etcd-v$ETCD_VERSION"
BIN="$ROOT/bin"

if [[ "${1:-}" == "--dir" ]]; then
  echo "$BIN"
  exit 0
fi

have_all() { [[ -x "$BIN/etcd" && -x "$BIN/kube-apiserver" && -x "$BIN/kubectl" ]]; }
if have_all; then echo "$BIN"; exit 0; fi
need_go "etcd, kube-apiserver and kubectl"
with_lock "$ROOT"
if have_all; then echo "$BIN"; exit 0; fi

go_env
mkdir -p "$BIN" "$ROOT/src"
START=$SECONDS
tool_log "building etcd v$ETCD_VERSION, kube-apiserver and kubectl v$K8S_VERSION with $(go env GOVERSION)"
tool_log "once per version (cached afterwards): ~15 CPU-minutes, 10-20 min on 2 cores"

build_etcd() {
  local w="$ROOT/src/etcd"
  rm -rf "$w" && mkdir -p "$w" && cd "$w"
  go mod init local/etcd-tools >/dev/null 2>&1
  quiet "$ROOT/etcd-resolve.log" go get -tool "go.etcd.io/etcd/server/v3@v$ETCD_VERSION"
  go build -ldflags "-s -w" -o "$BIN/etcd.tmp" go.etcd.io/etcd/server/v3
  mv "$BIN/etcd.tmp" "$BIN/etcd"
}

resolve_kube() {
  local w="$ROOT/src/kube" gomod staging m
  rm -rf "$w" && mkdir -p "$w" && cd "$w"
  go mod init local/kube-tools >/dev/null 2>&1
  staging="v0.${K8S_VERSION#1.}"
  gomod=$(go_mod_field "k8s.io/kubernetes@v$K8S_VERSION" GoMod)
  [[ -f "$gomod" ]] || { tool_log "cannot download k8s.io/kubernetes@v$K8S_VERSION"; return 1; }
  for m in $(sed -n 's|^[[:space:]]*\(k8s.io/[^ ]*\) => ./staging/.*|\1|p' "$gomod"); do
    go mod edit "-replace=$m=$m@$staging"
  done
  quiet "$ROOT/kube-resolve.log" go get -tool "k8s.io/kubernetes/cmd/kube-apiserver@v$K8S_VERSION" "k8s.io/kubernetes/cmd/kubectl@v$K8S_VERSION"
}

heartbeat_start "building etcd and kube-apiserver"
# The Kubernetes modules download (network) while etcd compiles (CPU).
etcd_rc=0; kube_rc=0
if [[ ! -x "$BIN/etcd" ]]; then
  tool_log "[1/3] etcd: resolving and compiling"
  ( build_etcd ) & etcd_pid=$!
else
  etcd_pid=
fi
if [[ ! -x "$BIN/kube-apiserver" || ! -x "$BIN/kubectl" ]]; then
  tool_log "[2/3] kubernetes: resolving modules (staging modules pinned to v0.${K8S_VERSION#1.})"
  ( resolve_kube ) || kube_rc=$?
fi
if [[ -n "$etcd_pid" ]]; then wait "$etcd_pid" || etcd_rc=$?; fi
[[ $etcd_rc -eq 0 ]] || { tool_log "etcd build failed (exit $etcd_rc)"; exit 1; }
[[ $kube_rc -eq 0 ]] || { tool_log "resolving the Kubernetes modules failed (exit $kube_rc)"; exit 1; }
[[ -x "$BIN/etcd" ]] && tool_log "[1/3] etcd: done ($(( SECONDS - START )) s)"

if [[ ! -x "$BIN/kube-apiserver" || ! -x "$BIN/kubectl" ]]; then
  cd "$ROOT/src/kube"
  # The variables hack/lib/version.sh sets; without them /version says v0.0.0 and
  # kubeVersion checks (helm) fail.
  MAJOR="${K8S_VERSION%%.*}"; REST="${K8S_VERSION#*.}"; MINOR="${REST%%.*}"
  LDF="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    LDF="$LDF -X $pkg.gitVersion=v$K8S_VERSION -X $pkg.gitMajor=$MAJOR -X $pkg.gitMinor=$MINOR"
    LDF="$LDF -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  tool_log "[3/3] kube-apiserver + kubectl: compiling both in one build (the long step)"
  rm -rf "$ROOT/src/out" && mkdir -p "$ROOT/src/out"
  go build -ldflags "$LDF" -o "$ROOT/src/out/" k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl
  mv "$ROOT/src/out/kube-apiserver" "$BIN/kube-apiserver"
  mv "$ROOT/src/out/kubectl" "$BIN/kubectl"
  tool_log "[3/3] kube-apiserver + kubectl: done ($(( SECONDS - START )) s)"
fi
heartbeat_stop
rm -rf "$ROOT/src"

tool_log "$(first_line "$BIN/etcd" --version)"
tool_log "$(first_line "$BIN/kubectl" version --client)"
tool_log "all binaries built in $(( SECONDS - START )) s: $BIN"
echo "$BIN"
