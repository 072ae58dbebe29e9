# Shared by the tool scripts (sourced, not run). Every tool the tests need is built
# or installed once and cached under $CACHE_ROOT, keyed by version.
#
# Pipes: the scripts run under `set -o pipefail`. A reader that exits early (`head`,
# `grep -q`) makes the writer die of SIGPIPE, and pipefail turns that into exit 141
# after a build that succeeded. So no script pipes into an early reader: first_line
# below reads a whole output instead.

CACHE_ROOT="${CLAIMCHECK_CACHE:-$HOME/.cache/claimcheck}"

# One module cache and one build cache for every Go tool: helm, kubectl and
# kube-apiserver share most of k8s.io, etcd and ghz share gRPC, so each package is
# downloaded and compiled once per machine. Every build uses the same flags, or the
# build cache would not be shared.
go_env() {
  export GOMODCACHE="$CACHE_ROOT/go/mod"
  export GOCACHE="$CACHE_ROOT/go/build"
  export GOFLAGS="-modcacherw -buildvcs=false -trimpath"
  export GOTOOLCHAIN=local
  export CGO_ENABLED=0
  mkdir -p "$GOMODCACHE" "$GOCACHE"
}

tool_log() { printf '%s %s: %s\n' "$(date +%H:%M:%S)" "${TOOL_NAME:-tools}" "$*" >&2; }

# first_line CMD ARGS...: the first line of CMD's output (stdout and stderr), never
# failing the caller.
first_line() {
  local out
  out=$("$@" 2>&1) || true
  printf '%s\n' "${out%%$'\n'*}"
}

need_go() {
  if ! command -v go >/dev/null 2>&1; then
    tool_log "Go is not installed; cannot build $*"
    exit 3
  fi
}

# with_lock DIR: one build per tool at a time (several test files may ask at once).
# Opens fd 9 for the rest of the calling script.
with_lock() {
  mkdir -p "$1"
  exec 9>"$1/.lock"
  if ! flock -n 9; then
    tool_log "another build is running; waiting for it ($1/.lock)"
    flock 9
  fi
}

# heartbeat_start LABEL / heartbeat_stop: a line every 60 s while a long step runs, so a
# cold build shows progress instead of silence.
heartbeat_start() {
  local label="$1" start=$SECONDS
  ( while sleep 60; do tool_log "... still $label ($((SECONDS - start)) s)"; done ) &
  HEARTBEAT_PID=$!
}
heartbeat_stop() {
  if [[ -n "${HEARTBEAT_PID:-}" ]]; then
    kill "$HEARTBEAT_PID" 2>/dev/null || true
    wait "$HEARTBEAT_PID" 2>/dev/null || true
    HEARTBEAT_PID=
  fi
}
trap heartbeat_stop EXIT

# go_mod_field MODULE@VERSION FIELD: a field (GoMod, Dir) of `go mod download -json`.
go_mod_field() {
  local json
  json=$(go mod download -json "$1") || return 1
  sed -n "s/.*\"$2\": \"\\([^\"]*\\)\".*/\\1/p" <<<"$json"
}

# quiet LOG CMD ARGS...: CMD's output goes to LOG; on failure the end of LOG is shown.
quiet() {
  local log="$1"; shift
  "$@" >"$log" 2>&1 && return 0
  local rc=$?
  tool_log "failed (exit $rc): $*; the end of $log:"
  tail -n 30 "$log" >&2
  return "$rc"
}
