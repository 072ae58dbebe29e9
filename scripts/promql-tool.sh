#!/usr/bin/env bash
# Builds a tiny PromQL syntax checker on Prometheus's own parser
# (github.com/prometheus/prometheus/promql/parser, from the Go module proxy) so
# the tests can parse every alert and dashboard query the chart ships.
# Cached under ${CLAIMCHECK_CACHE:-~/.cache/claimcheck}/promql-<version>/; prints
# the binary's path on the last line of stdout.
#   echo '[{"name":"a","expr":"up == 0"}]' | promql-parse   ->  [{"name":"a","error":""}]
set -euo pipefail
source "$(dirname "$0")/lib/tools.sh"
TOOL_NAME=promql-tool

VERSION="${CLAIMCHECK_PROMETHEUS_VERSION:-v0.316.0}"
ROOT="$CACHE_ROOT/promql-${VERSION}"
BIN="$ROOT/bin/promql-parse"
if [[ -x "$BIN" ]]; then echo "$BIN"; exit 0; fi
need_go "the PromQL parser"
with_lock "$ROOT"
if [[ -x "$BIN" ]]; then echo "$BIN"; exit 0; fi

go_env
mkdir -p "$ROOT/src" "$ROOT/bin"
cd "$ROOT/src"
cat > main.go <<'GO'
// promql-parse: reads [{"name","expr"}] as JSON on stdin, parses each expression
// with Prometheus's parser, writes [{"name","error"}] ("" when it parses).
package main

import (
	"encoding/json"
	"os"

	"github.com/prometheus/prometheus/promql/parser"
)

type item struct {
	Name  string `json:"name"`
	Expr  string `json:"expr,omitempty"`
	Error string `json:"error"`
}

func main() {
	var in []item
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		os.Stderr.WriteString("promql-parse: " + err.Error() + "\n")
		os.Exit(2)
	}
	p := parser.NewParser(parser.Options{})
	out := make([]item, 0, len(in))
	for _, it := range in {
		res := item{Name: it.Name}
		if _, err := p.ParseExpr(it.Expr); err != nil {
			res.Error = err.Error()
		}
		out = append(out, res)
	}
	_ = json.NewEncoder(os.Stdout).Encode(out)
}
GO
[[ -f go.mod ]] || go mod init local/promql-parse >/dev/null 2>&1
tool_log "building the PromQL parser from github.com/prometheus/prometheus@${VERSION} (once)"
start=$SECONDS
heartbeat_start "building the PromQL parser"
quiet "$ROOT/resolve.log" go get "github.com/prometheus/prometheus@${VERSION}"
quiet "$ROOT/resolve.log" go mod tidy
go build -ldflags "-s -w" -o "$BIN.tmp" .
heartbeat_stop
mv "$BIN.tmp" "$BIN"
tool_log "built in $(( SECONDS - start )) s"
echo "$BIN"
