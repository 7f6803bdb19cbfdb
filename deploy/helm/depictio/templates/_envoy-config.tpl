{{/*
envoy's configuration in the cluster: the same edge as deploy/envoy/envoy.yaml (compose), with
the upstreams being this release's Services. TLS from the Secret envoy.tlsSecretName.
*/}}
{{- define "depictio.envoyConfig" -}}
{{- $root := . -}}
{{- $components := .Values.components -}}
admin:
  address:
    socket_address: {address: 127.0.0.1, port_value: 9901}
static_resources:
  listeners:
    - name: https
      address:
        socket_address: {address: 0.0.0.0, port_value: 8443}
      per_connection_buffer_limit_bytes: 1048576
      filter_chains:
        - transport_socket:
            name: envoy.transport_sockets.tls
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
              common_tls_context:
                alpn_protocols: [h2, http/1.1]
                tls_params: {tls_minimum_protocol_version: TLSv1_2}
                tls_certificates:
                  - certificate_chain: {filename: /etc/envoy/certs/tls.crt}
                    private_key: {filename: /etc/envoy/certs/tls.key}
          filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                stat_prefix: https
                codec_type: AUTO
                use_remote_address: true
                normalize_path: true
                merge_slashes: true
                path_with_escaped_slashes_action: REJECT_REQUEST
                request_headers_timeout: 10s
                request_timeout: 0s
                stream_idle_timeout: 300s
                common_http_protocol_options:
                  idle_timeout: 3600s
                  headers_with_underscores_action: REJECT_REQUEST
                access_log:
                  - name: envoy.access_loggers.stdout
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog
                route_config:
                  name: depictio
                  virtual_hosts:
                    - name: depictio
                      domains: ["*"]
                      routes:
                        {{- range $name, $component := $components }}
                        {{- if $component.grpc }}
                        - match: {prefix: /{{ $component.grpc.service }}/}
                          route:
                            cluster: {{ kebabcase $name }}
                            timeout: {{ $component.grpc.routeTimeout }}
                            idle_timeout: 300s
                            max_stream_duration: {grpc_timeout_header_max: {{ $component.grpc.routeTimeout }}}
                          typed_per_filter_config:
                            envoy.filters.http.cors:
                              "@type": type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy
                              allow_origin_string_match: [{safe_regex: {regex: "https://.+"}}]
                              allow_methods: POST, OPTIONS
                              allow_headers: authorization, content-type, grpc-timeout, x-grpc-web, x-user-agent, x-accept-content-transfer-encoding, x-accept-response-streaming
                              expose_headers: grpc-status, grpc-message, grpc-status-details-bin
                              allow_credentials: false
                              max_age: "86400"
                            envoy.filters.http.buffer:
                              "@type": type.googleapis.com/envoy.extensions.filters.http.buffer.v3.BufferPerRoute
                              disabled: true
                        {{- end }}
                        {{- end }}
                        - match: {prefix: /api/v1/datacollections/}
                          route: {cluster: gateway, timeout: 0s, idle_timeout: 300s}
                          typed_per_filter_config:
                            envoy.filters.http.cors: &api_cors
                              "@type": type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy
                              allow_origin_string_match: [{safe_regex: {regex: "https://.+"}}]
                              allow_methods: GET, POST, PUT, PATCH, DELETE, OPTIONS
                              allow_headers: authorization, content-type
                              allow_credentials: false
                              max_age: "86400"
                            envoy.filters.http.buffer:
                              "@type": type.googleapis.com/envoy.extensions.filters.http.buffer.v3.BufferPerRoute
                              disabled: true
                        - match: {path_separated_prefix: /api}
                          route: {cluster: gateway, timeout: 60s}
                          typed_per_filter_config:
                            envoy.filters.http.cors: *api_cors
                        - match: {path_separated_prefix: /.well-known}
                          route: {cluster: gateway, timeout: 10s}
                        - match: {path: /docs}
                          route: {cluster: gateway, timeout: 10s}
                        - match: {prefix: /}
                          route: {cluster: dash-apps, timeout: 120s}
                http_filters:
                  - name: envoy.filters.http.grpc_web
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.grpc_web.v3.GrpcWeb
                  - name: envoy.filters.http.cors
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors
                  - name: envoy.filters.http.buffer
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Buffer
                      max_request_bytes: {{ .Values.envoy.maxRequestBytes | int }}
                  - name: envoy.filters.http.router
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
    - name: http
      address:
        socket_address: {address: 0.0.0.0, port_value: 8080}
      filter_chains:
        - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                stat_prefix: http
                route_config:
                  virtual_hosts:
                    - name: redirect
                      domains: ["*"]
                      routes:
                        - match: {prefix: /}
                          redirect: {https_redirect: true, port_redirect: {{ .Values.envoy.service.httpsPort }}}
                http_filters:
                  - name: envoy.filters.http.router
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
    {{- range $name, $component := $components }}
    {{- $listens := $component.grpc | default $component.http }}
    {{- if $listens }}
    - name: {{ kebabcase $name }}
      type: STRICT_DNS
      lb_policy: LEAST_REQUEST
      connect_timeout: 5s
      {{- if $component.grpc }}
      typed_extension_protocol_options:
        envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
          "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
          explicit_http_config:
            http2_protocol_options:
              connection_keepalive: {interval: 30s, timeout: 10s}
      health_checks:
        - timeout: 2s
          interval: 10s
          unhealthy_threshold: 2
          healthy_threshold: 1
          grpc_health_check: {service_name: {{ $component.grpc.service }}}
      {{- end }}
      load_assignment:
        cluster_name: {{ kebabcase $name }}
        endpoints:
          - lb_endpoints:
              - endpoint:
                  address:
                    socket_address:
                      address: {{ include "depictio.componentName" (list $root $name) }}
                      port_value: {{ $listens.port }}
    {{- end }}
    {{- end }}
{{- end -}}
