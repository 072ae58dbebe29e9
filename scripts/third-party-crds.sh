#!/usr/bin/env bash
# Fetches the CRDs (and Istio's MeshConfig protos) that the packaging tests
# apply to the test kube-apiserver, so that the Istio, Envoy Gateway and
# Prometheus Operator objects claimcheck ships are validated by the real API
# server against the projects' own schemas. They come from the projects' Go
# modules through the Go module proxy (`go mod download`; there are no release
# downloads on the build machines), cached once per version under
#   ${CLAIMCHECK_CACHE:-~/.cache/claimcheck}/third-party-crds-<versions>/
# with the parts the tests read copied out:
#   istio-api/            istio.io/api: kubernetes/customresourcedefinitions.gen.yaml, mesh/v1alpha1/*.proto
#   envoy-gateway/        github.com/envoyproxy/gateway: charts/gateway-helm/charts/crds/crds/
#   prometheus-operator/  github.com/prometheus-operator/prometheus-operator: example/prometheus-operator-crd/
#   traefik/              github.com/traefik/traefik/v3: docs/content/reference/ (CRDs, reference static and dynamic configuration)
# Prints that directory on the last line of stdout.
set -euo pipefail
source "$(dirname "$0")/lib/tools.sh"
TOOL_NAME=third-party-crds

ISTIO_API="${CLAIMCHECK_ISTIO_API_VERSION:-v1.28.0}"
ENVOY_GATEWAY="${CLAIMCHECK_ENVOY_GATEWAY_VERSION:-v1.9.1}"
PROM_OPERATOR="${CLAIMCHECK_PROMETHEUS_OPERATOR_VERSION:-v0.85.0}"
TRAEFIK="${CLAIMCHECK_TRAEFIK_VERSION:-v3.7.13}"
ROOT="$CACHE_ROOT/third-party-crds-istio-${ISTIO_API}-eg-${ENVOY_GATEWAY}-po-${PROM_OPERATOR}-traefik-${TRAEFIK}"

done_() { [[ -f "$ROOT/.done" ]]; }
if done_; then echo "$ROOT"; exit 0; fi
need_go "the Istio / Envoy Gateway / Prometheus Operator / Traefik modules"
with_lock "$ROOT"
if done_; then echo "$ROOT"; exit 0; fi

go_env
# copy NAME MODULE@VERSION SUBDIR: the part of the module the tests read, copied out of
# the shared module cache so that the cache can be cleaned without breaking this one.
copy() {
  local dir
  tool_log "go mod download $2"
  dir=$(go_mod_field "$2" Dir)
  [[ -d "$dir/$3" ]] || { tool_log "cannot download $2 (or it has no $3)"; exit 1; }
  rm -rf "${ROOT:?}/$1" && mkdir -p "$ROOT/$1/$(dirname "$3")"
  cp -R "$dir/$3" "$ROOT/$1/$3"
  chmod -R u+w "$ROOT/$1"
}
copy istio-api "istio.io/api@${ISTIO_API}" .
copy envoy-gateway "github.com/envoyproxy/gateway@${ENVOY_GATEWAY}" charts/gateway-helm/charts/crds
copy prometheus-operator "github.com/prometheus-operator/prometheus-operator@${PROM_OPERATOR}" example/prometheus-operator-crd
copy traefik "github.com/traefik/traefik/v3@${TRAEFIK}" docs/content/reference
for f in istio-api/kubernetes/customresourcedefinitions.gen.yaml \
         envoy-gateway/charts/gateway-helm/charts/crds/crds/generated/gateway.envoyproxy.io_securitypolicies.yaml \
         envoy-gateway/charts/gateway-helm/charts/crds/crds/gatewayapi-crds.yaml \
         prometheus-operator/example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml \
         prometheus-operator/example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml \
         traefik/docs/content/reference/dynamic-configuration/kubernetes-crd-definition-v1.yml \
         traefik/docs/content/reference/dynamic-configuration/file.yaml \
         traefik/docs/content/reference/static-configuration/file.yaml \
         istio-api/mesh/v1alpha1/config.proto; do
  [[ -f "$ROOT/$f" ]] || { tool_log "$f is missing from the module"; exit 1; }
done
touch "$ROOT/.done"
echo "$ROOT"
