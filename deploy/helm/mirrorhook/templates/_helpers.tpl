{{- define "mirrorhook.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "mirrorhook.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/part-of: mirrorhook
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "mirrorhook.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
{{- end -}}

{{- define "mirrorhook.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{- define "mirrorhook.webhook" -}}
- name: {{ .name }}.mirrorhook.io
  admissionReviewVersions: ["v1"]
  clientConfig:
    service:
      name: {{ include "mirrorhook.fullname" .root }}
      namespace: {{ .root.Release.Namespace }}
      path: {{ .path }}
      port: 443
  rules:
    - operations: ["CREATE", "UPDATE"]
      apiGroups: [""]
      apiVersions: ["v1"]
      resources: ["pods", "pods/ephemeralcontainers"]
      scope: Namespaced
  namespaceSelector:
    {{- with .root.Values.webhook.namespaceSelector.matchLabels }}
    matchLabels:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    matchExpressions:
      - key: mirrorhook.io/mode
        operator: In
        values: [{{ .name | quote }}]
      - key: kubernetes.io/metadata.name
        operator: NotIn
        values:
          {{- range .root.Values.webhook.excludedNamespaces }}
          - {{ . | quote }}
          {{- end }}
          - {{ .root.Release.Namespace | quote }}
      {{- with .root.Values.webhook.namespaceSelector.matchExpressions }}
      {{- toYaml . | nindent 6 }}
      {{- end }}
  {{- with .root.Values.webhook.objectSelector }}
  objectSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .root.Values.webhook.matchConditions }}
  matchConditions:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  matchPolicy: Equivalent
  failurePolicy: {{ .root.Values.webhook.failurePolicy }}
  sideEffects: NoneOnDryRun
  reinvocationPolicy: IfNeeded
  timeoutSeconds: {{ .root.Values.webhook.timeoutSeconds }}
{{- end -}}

{{- define "mirrorhook.certificatesMode" -}}
{{- $mode := .Values.certificates.mode -}}
{{- if not (has $mode (list "provided" "self-managed" "cert-manager")) -}}
{{- fail (printf "certificates.mode must be provided, self-managed or cert-manager, not %q" $mode) -}}
{{- end -}}
{{- $mode -}}
{{- end -}}

{{- define "mirrorhook.tlsSecretName" -}}
{{- default (printf "%s-tls" (include "mirrorhook.fullname" .)) .Values.tls.secretName -}}
{{- end -}}

{{- define "mirrorhook.certSecretName" -}}
{{- default (printf "%s-certs" (include "mirrorhook.fullname" .)) .Values.certificates.selfManaged.secretName -}}
{{- end -}}

{{- define "mirrorhook.preDeleteName" -}}
{{- printf "%s-pre-delete" (include "mirrorhook.fullname" . | trunc 52 | trimSuffix "-") -}}
{{- end -}}

{{- define "mirrorhook.preDeleteImage" -}}
{{- $image := .Values.preDeleteHook.image -}}
{{- if $image.digest -}}
{{- printf "%s@%s" $image.repository $image.digest -}}
{{- else -}}
{{- printf "%s:%s" $image.repository $image.tag -}}
{{- end -}}
{{- end -}}
