{{/* The labels the chart adds to every object, beside those deploy/ gives it. */}}
{{- define "bosun.chartLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: bosun
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}

{{/* The labels of a component's objects: its name (the pods' selector) and the chart's. */}}
{{- define "bosun.labels" -}}
app.kubernetes.io/name: {{ .name }}
{{ include "bosun.chartLabels" .root }}
{{- end -}}

{{- define "bosun.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag }}
{{- end -}}

{{/* nodeSelector, tolerations and affinity of a pod, when set. */}}
{{- define "bosun.scheduling" -}}
{{- with .nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* A component's ServiceMonitor, selecting its metrics Service. */}}
{{- define "bosun.serviceMonitor" -}}
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ .name }}
  namespace: {{ .namespace }}
  labels:
    {{- include "bosun.labels" . | nindent 4 }}
    {{- with .root.Values.metrics.serviceMonitor.labels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  jobLabel: app.kubernetes.io/name
  namespaceSelector:
    matchNames: [{{ .namespace }}]
  selector:
    matchLabels:
      app.kubernetes.io/name: {{ .name }}
      app.kubernetes.io/component: metrics
  endpoints:
    - port: metrics
      path: /metrics
      scheme: http
      interval: {{ .root.Values.metrics.serviceMonitor.interval }}
      scrapeTimeout: {{ .root.Values.metrics.serviceMonitor.scrapeTimeout }}
{{- end -}}

{{/*
The objects of one file of deploy/ (files/hub and files/agent link to deploy/hub and
deploy/agent), rendered as shipped with the chart's labels added, so that chart and deploy/
cannot drift apart. "rules" replaces the rules of the named ClusterRoles when not empty.
Called with (dict "root" $ "path" "files/hub/10-rbac.yaml" ["rules" (dict NAME RULES)]).
*/}}
{{- define "bosun.shipped" -}}
{{- $root := .root }}
{{- $rules := .rules | default dict }}
{{- $text := $root.Files.Get .path }}
{{- if not $text }}
{{- fail (printf "%s is missing from the chart (files/ links to deploy/)" .path) }}
{{- end }}
{{- range $document := regexSplit "(?m)^---[ \t]*$" $text -1 }}
{{- $object := fromYaml $document }}
{{- if $object }}
{{- $labels := merge ($object.metadata.labels | default dict) (include "bosun.chartLabels" $root | fromYaml) }}
{{- $_ := set $object.metadata "labels" $labels }}
{{- if and (eq $object.kind "ClusterRole") (get $rules $object.metadata.name) }}
{{- $_ := set $object "rules" (get $rules $object.metadata.name) }}
{{- end }}
---
{{ toYaml $object }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Every file of deploy/<component>/ but those listed, which templates render from values. */}}
{{- define "bosun.shippedFiles" -}}
{{- $root := .root }}
{{- $skip := .skip }}
{{- $rules := .rules }}
{{- range $path, $_ := $root.Files.Glob (printf "files/%s/*.yaml" .component) }}
{{- if not (has (base $path) $skip) }}
{{ include "bosun.shipped" (dict "root" $root "path" $path "rules" $rules) }}
{{- end }}
{{- end }}
{{- end -}}
