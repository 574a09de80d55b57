{{/* Release-scoped name, trimmed to the 63 characters Kubernetes allows. */}}
{{- define "drive-index.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Name of one component (a service or job): <fullname>-<component>. */}}
{{- define "drive-index.componentName" -}}
{{- printf "%s-%s" (include "drive-index.fullname" .root) .component | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "drive-index.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: drive-index
{{- end -}}

{{/* Labels of one component; call with (dict "root" $ "component" "fetcher"). */}}
{{- define "drive-index.componentLabels" -}}
{{ include "drive-index.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "drive-index.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Image of one component: <registry>/drive-index-<component>:<tag>. */}}
{{- define "drive-index.image" -}}
{{- printf "%s/drive-index-%s:%s" .root.Values.image.registry .component (.root.Values.image.tag | default .root.Chart.AppVersion) -}}
{{- end -}}

{{- define "drive-index.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- .Values.serviceAccount.name | default (include "drive-index.fullname" .) -}}
{{- else -}}
{{- .Values.serviceAccount.name | default "default" -}}
{{- end -}}
{{- end -}}

{{- define "drive-index.configMapName" -}}
{{- printf "%s-config" (include "drive-index.fullname" .) -}}
{{- end -}}

{{- define "drive-index.secretName" -}}
{{- .Values.secrets.existingSecret | default (printf "%s-secrets" (include "drive-index.fullname" .)) -}}
{{- end -}}

{{/* Settings from the ConfigMap and the Secret, for pods that run after install. */}}
{{- define "drive-index.envFrom" -}}
- configMapRef:
    name: {{ include "drive-index.configMapName" . }}
- secretRef:
    name: {{ include "drive-index.secretName" . }}
{{- end -}}

{{/* Whether a Google key file is mounted; callers also check that the workload wants it. */}}
{{- define "drive-index.googleKey" -}}
{{- if .Values.googleCredentials.existingSecret }}true{{ end -}}
{{- end -}}

{{- define "drive-index.googleEnv" -}}
- name: GOOGLE_APPLICATION_CREDENTIALS
  value: {{ printf "%s/%s" .Values.googleCredentials.mountPath .Values.googleCredentials.key | quote }}
{{- end -}}

{{- define "drive-index.googleVolumeMount" -}}
- name: google-credentials
  mountPath: {{ .Values.googleCredentials.mountPath }}
  readOnly: true
{{- end -}}

{{- define "drive-index.googleVolume" -}}
- name: google-credentials
  secret:
    secretName: {{ .Values.googleCredentials.existingSecret }}
    items:
      - key: {{ .Values.googleCredentials.key }}
        path: {{ .Values.googleCredentials.key }}
{{- end -}}

{{/* Pod-level scheduling and security shared by every workload. */}}
{{- define "drive-index.podCommon" -}}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* Settings as literal env entries, for hook Jobs that run before the ConfigMap exists. */}}
{{- define "drive-index.inlineConfigEnv" -}}
{{- range $key, $value := .Values.config }}
{{- if ne (toString $value) "" }}
- name: {{ $key }}
  value: {{ toString $value | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{/* A container running the operator CLI. Call with (dict "root" $ "name" … "args" (list …)
"inline" bool "resources" …), optionally "command" (list …) and "env" (dict NAME value). */}}
{{- define "drive-index.cliContainer" -}}
- name: {{ .name }}
  image: {{ include "drive-index.image" (dict "root" .root "component" "cli") }}
  imagePullPolicy: {{ .root.Values.image.pullPolicy }}
  {{- with .command }}
  command: {{ toJson . }}
  {{- end }}
  {{- with .args }}
  args: {{ toJson . }}
  {{- end }}
  {{- if .inline }}
  envFrom:
    - secretRef:
        name: {{ include "drive-index.secretName" .root }}
  env:
    {{- include "drive-index.inlineConfigEnv" .root | trim | nindent 4 }}
  {{- else }}
  envFrom:
    {{- include "drive-index.envFrom" .root | nindent 4 }}
  env:
  {{- end }}
    - name: OTEL_SERVICE_NAME
      value: {{ printf "drive-index-%s" .name | quote }}
    {{- range $key, $value := .env }}
    - name: {{ $key }}
      value: {{ $value | quote }}
    {{- end }}
    {{- if include "drive-index.googleKey" .root }}
    {{- include "drive-index.googleEnv" .root | nindent 4 }}
    {{- end }}
  resources:
    {{- toYaml .resources | nindent 4 }}
  securityContext:
    {{- toYaml .root.Values.securityContext | nindent 4 }}
  volumeMounts:
    - name: tmp
      mountPath: /tmp
    {{- if include "drive-index.googleKey" .root }}
    {{- include "drive-index.googleVolumeMount" .root | nindent 4 }}
    {{- end }}
{{- end -}}

{{/* Where the CLI finds each service inside the cluster: GATEWAY_URL, FETCHER_URL, ... */}}
{{- define "drive-index.serviceUrls" -}}
{{- $urls := dict }}
{{- range $name, $svc := .Values.services }}
{{- $var := printf "%s_URL" ($name | trimPrefix "webhook-" | upper) }}
{{- $_ := set $urls $var (printf "http://%s:%v" (include "drive-index.componentName" (dict "root" $ "component" $name)) $svc.port) }}
{{- end }}
{{- toJson $urls }}
{{- end -}}

{{/* Labels every pod of the release carries: the services, the jobs, the toolbox, the helm test. */}}
{{- define "drive-index.releaseSelector" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* NetworkPolicy ports from a list of TCP port numbers, as JSON: call with (list 5432). */}}
{{- define "drive-index.tcpPorts" -}}
{{- $ports := list }}
{{- range . }}
{{- $ports = append $ports (dict "port" (int .) "protocol" "TCP") }}
{{- end }}
{{- toJson $ports }}
{{- end -}}

{{/* oauth2-proxy beside search: signs people in, passes X-Forwarded-Email/-Groups to search over
127.0.0.1 and strips any a caller sent. Call with (dict "root" $ "upstreamPort" 8083). */}}
{{- define "drive-index.oauth2ProxyContainer" -}}
{{- $proxy := .root.Values.oauth2Proxy }}
{{- if not $proxy.emailDomains }}
{{- fail "oauth2Proxy.emailDomains: name the domains whose people may sign in (e.g. [example.com])" }}
{{- end }}
- name: oauth2-proxy
  image: {{ $proxy.image }}
  imagePullPolicy: {{ .root.Values.image.pullPolicy }}
  args:
    - --http-address=0.0.0.0:{{ $proxy.port }}
    - --upstream=http://127.0.0.1:{{ .upstreamPort }}/
    - --provider={{ $proxy.provider }}
    {{- range $proxy.emailDomains }}
    - --email-domain={{ . }}
    {{- end }}
    - --redirect-url=https://{{ .root.Values.ingress.search.host }}/oauth2/callback
    - --pass-user-headers=true
    - --reverse-proxy=true
    - --cookie-secure=true
    - --skip-provider-button=true
    - --silence-ping-logging=true
    {{- range $proxy.extraArgs }}
    - {{ . | quote }}
    {{- end }}
  envFrom:
    # OAUTH2_PROXY_CLIENT_ID, OAUTH2_PROXY_CLIENT_SECRET, OAUTH2_PROXY_COOKIE_SECRET
    - secretRef:
        name: {{ required "oauth2Proxy.existingSecret: a Secret with the OAuth client and cookie secret" $proxy.existingSecret }}
  ports:
    - name: oauth2-proxy
      containerPort: {{ $proxy.port }}
      protocol: TCP
  livenessProbe:
    httpGet: {path: /ping, port: oauth2-proxy}
    {{- toYaml .root.Values.probes.liveness | nindent 4 }}
  readinessProbe:
    httpGet: {path: /ping, port: oauth2-proxy}
    {{- toYaml .root.Values.probes.readiness | nindent 4 }}
  resources:
    {{- toYaml $proxy.resources | nindent 4 }}
  securityContext:
    {{- toYaml .root.Values.securityContext | nindent 4 }}
{{- end -}}
