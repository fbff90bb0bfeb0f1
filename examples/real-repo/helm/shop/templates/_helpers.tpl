{{- define "shop.image" -}}
{{- $registry := .global.imageRegistry | default .image.registry -}}
{{- if $registry }}{{ $registry }}/{{ end }}{{ .image.repository }}{{ if .image.tag }}:{{ .image.tag }}{{ end }}{{ if .image.digest }}@{{ .image.digest }}{{ end }}
{{- end -}}
