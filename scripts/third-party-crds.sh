#!/usr/bin/env bash
# Fetches the CRDs (and Istio's MeshConfig protos) that the packaging tests
# apply to the test kube-apiserver, so that the Istio, Envoy Gateway and
# Prometheus Operator objects claimcheck ships are validated by the real API
# server against the projects' own schemas. They come from the projects' Go
# modules through the Go module proxy (`go mod download`; there are no release
# downloads on the build machines), cached once per version under
#   ${CLAIMCHECK_CACHE:-~/.cache/claimcheck}/third-party-crds-<versions>/
# with stable links:
#   istio-api/            istio.io/api: kubernetes/customresourcedefinitions.gen.yaml, mesh/v1alpha1/*.proto
#   envoy-gateway/        github.com/envoyproxy/gateway: charts/gateway-helm/charts/crds/crds/
#   prometheus-operator/  github.com/prometheus-operator/prometheus-operator: example/prometheus-operator-crd/
# Prints that directory on the last line of stdout.
set -euo pipefail

ISTIO_API="${CLAIMCHECK_ISTIO_API_VERSION:-v1.28.0}"
ENVOY_GATEWAY="${CLAIMCHECK_ENVOY_GATEWAY_VERSION:-v1.9.1}"
PROM_OPERATOR="${CLAIMCHECK_PROMETHEUS_OPERATOR_VERSION:-v0.85.0}"
ROOT="${CLAIMCHECK_CACHE:-$HOME/.cache/claimcheck}/third-party-crds-istio-${ISTIO_API}-eg-${ENVOY_GATEWAY}-po-${PROM_OPERATOR}"

done_() { [[ -f "$ROOT/.done" ]]; }
if done_; then echo "$ROOT"; exit 0; fi
if ! command -v go >/dev/null 2>&1; then
  echo "third-party-crds: Go is not installed; cannot download the Istio / Envoy Gateway / Prometheus Operator modules" >&2
  exit 3
fi
mkdir -p "$ROOT"
exec 9>"$ROOT/.lock"
flock 9
if done_; then echo "$ROOT"; exit 0; fi

export GOMODCACHE="$ROOT/gomodcache" GOFLAGS="-modcacherw" GOTOOLCHAIN=local
link() { # name module@version
  local dir
  echo "third-party-crds: go mod download $2" >&2
  dir=$(go mod download -json "$2" | sed -n 's/.*"Dir": "\([^"]*\)".*/\1/p')
  [[ -d "$dir" ]] || { echo "third-party-crds: cannot download $2" >&2; exit 1; }
  ln -sfn "$dir" "$ROOT/$1"
}
link istio-api "istio.io/api@${ISTIO_API}"
link envoy-gateway "github.com/envoyproxy/gateway@${ENVOY_GATEWAY}"
link prometheus-operator "github.com/prometheus-operator/prometheus-operator@${PROM_OPERATOR}"
for f in istio-api/kubernetes/customresourcedefinitions.gen.yaml \
         envoy-gateway/charts/gateway-helm/charts/crds/crds/generated/gateway.envoyproxy.io_securitypolicies.yaml \
         envoy-gateway/charts/gateway-helm/charts/crds/crds/gatewayapi-crds.yaml \
         prometheus-operator/example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml \
         prometheus-operator/example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml \
         istio-api/mesh/v1alpha1/config.proto; do
  [[ -f "$ROOT/$f" ]] || { echo "third-party-crds: $f is missing from the module" >&2; exit 1; }
done
touch "$ROOT/.done"
echo "$ROOT"
