{{/*
Chart name, truncated to 63 characters (the DNS label limit for names).
*/}}
{{- define "claimcheck.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name: <release>-<chart>, or the release name when it already
contains the chart name.
*/}}
{{- define "claimcheck.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Chart name and version for the helm.sh/chart label.
*/}}
{{- define "claimcheck.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Common labels.
*/}}
{{- define "claimcheck.labels" -}}
helm.sh/chart: {{ include "claimcheck.chart" . }}
{{ include "claimcheck.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: claimcheck
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Selector labels: stable across upgrades (a Deployment's selector is immutable).
*/}}
{{- define "claimcheck.selectorLabels" -}}
app.kubernetes.io/name: {{ include "claimcheck.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
ServiceAccount name.
*/}}
{{- define "claimcheck.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "claimcheck.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
Image reference: repository@digest when a digest is set, else repository:tag
(tag defaults to appVersion).
*/}}
{{- define "claimcheck.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{/*
Name of the ConfigMap holding the file-source manifests.
*/}}
{{- define "claimcheck.configMapName" -}}
{{- default (printf "%s-config" (include "claimcheck.fullname" .)) .Values.config.file.existingConfigMap }}
{{- end }}

{{/*
The file-source manifests as one multi-document YAML file.
*/}}
{{- define "claimcheck.fileManifests" -}}
{{- range $i, $m := .Values.config.file.manifests }}
{{- if $i }}
---
{{- end }}
{{ toYaml $m }}
{{- end }}
{{- end }}

{{/*
Whether the pod mounts the API token: explicit value wins; otherwise only the
kubernetes source needs it.
*/}}
{{- define "claimcheck.automountToken" -}}
{{- if kindIs "bool" .Values.serviceAccount.automountServiceAccountToken }}
{{- .Values.serviceAccount.automountServiceAccountToken }}
{{- else }}
{{- eq .Values.config.source "kubernetes" }}
{{- end }}
{{- end }}

{{/*
The gRPC address Envoy / Istio use: <fullname>.<namespace>.svc.cluster.local.
*/}}
{{- define "claimcheck.grpcService" -}}
{{- printf "%s.%s.svc.cluster.local" (include "claimcheck.fullname" .) .Release.Namespace }}
{{- end }}

{{/*
Identity tokens: the Secret of signing keys (the user's, or the one the chart
generates) and the issuer URL, by default the Service's HTTP port, where
claimcheck serves the discovery document and the JWKS.
*/}}
{{- define "claimcheck.identityKeysSecret" -}}
{{- default (printf "%s-identity-keys" (include "claimcheck.fullname" .)) .Values.identityTokens.existingSecret }}
{{- end }}

{{- define "claimcheck.identityIssuer" -}}
{{- default (printf "http://%s:%d" (include "claimcheck.grpcService" .) (int .Values.ports.metrics)) .Values.identityTokens.issuer }}
{{- end }}

{{/*
TLS on the listeners: the Secret (the user's, or the one cert-manager writes) and where
it is mounted. No subPath, so the kubelet's atomic ..data swap reaches claimcheck.
*/}}
{{- define "claimcheck.tlsSecret" -}}
{{- default (printf "%s-tls" (include "claimcheck.fullname" .)) .Values.tls.secretName }}
{{- end }}
