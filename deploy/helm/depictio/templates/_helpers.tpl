{{/* Names, labels and the service addresses shared by the chart's templates. */}}

{{- define "depictio.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* The name of a component's Deployment and Service: (list $root "authSvc") → <fullname>-auth-svc. */}}
{{- define "depictio.componentName" -}}
{{- $root := index . 0 -}}
{{- printf "%s-%s" (include "depictio.fullname" $root) (kebabcase (index . 1)) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "depictio.selectorLabels" -}}
app.kubernetes.io/name: {{ (index . 0).Chart.Name }}
app.kubernetes.io/instance: {{ (index . 0).Release.Name }}
app.kubernetes.io/component: {{ kebabcase (index . 1) }}
{{- end -}}

{{- define "depictio.labels" -}}
{{ include "depictio.selectorLabels" . }}
helm.sh/chart: {{ printf "%s-%s" (index . 0).Chart.Name (index . 0).Chart.Version }}
app.kubernetes.io/version: {{ (index . 0).Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ (index . 0).Release.Service }}
{{- end -}}

{{/*
Where a process finds each gRPC service (and data_svc's Arrow Flight endpoint): its own address
is 0.0.0.0:<port> (where it binds), the others' <their Service>:<port> (where it connects).
*/}}
{{- define "depictio.serviceAddresses" -}}
{{- $root := index . 0 -}}
{{- $self := index . 1 -}}
{{- range $name, $component := $root.Values.components }}
{{- if $component.grpc }}
- name: {{ $component.grpc.addressEnv }}
  {{- if eq $name $self }}
  value: {{ printf "0.0.0.0:%v" $component.grpc.port | quote }}
  {{- else }}
  value: {{ printf "%s:%v" (include "depictio.componentName" (list $root $name)) $component.grpc.port | quote }}
  {{- end }}
{{- end }}
{{- if $component.flight }}
- name: {{ $component.flight.addressEnv }}
  {{- if eq $name $self }}
  value: {{ printf "0.0.0.0:%v" $component.flight.port | quote }}
  {{- else }}
  value: {{ printf "%s:%v" (include "depictio.componentName" (list $root $name)) $component.flight.port | quote }}
  {{- end }}
{{- end }}
{{- end }}
{{- end -}}
