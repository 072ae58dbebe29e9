{{/*
RBAC rules of the kubernetes source, the same as deploy/rbac/ (the packaging
tests fail when a rule here is wider than there).
*/}}
{{- define "claimcheck.watchRules" -}}
- apiGroups: ["claimcheck.io"]
  resources: ["trustedissuers", "authpolicies", "tokenrevocations"]
  verbs: ["get", "list", "watch"]
# only the elected replica writes, with a merge PATCH of the status subresource
- apiGroups: ["claimcheck.io"]
  resources: ["trustedissuers/status", "authpolicies/status", "tokenrevocations/status"]
  verbs: ["patch"]
# Warning Events when a resource is rejected or its keys are unavailable
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create"]
{{- end }}

{{- define "claimcheck.secretRules" -}}
# Secrets named by TrustedIssuer jwks.secretRef (watched by name, never others)
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "list", "watch"]
{{- end }}

{{- define "claimcheck.leaseRules" -}}
- apiGroups: ["coordination.k8s.io"]
  resources: ["leases"]
  verbs: ["get", "create", "update"]
{{- end }}
