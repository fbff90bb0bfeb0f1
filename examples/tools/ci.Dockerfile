# escape=`
# A CI image. The heredoc below writes a Dockerfile for another build: its FROM is text, not a base image.
# FROM ubuntu:22.04 (commented out: we moved to Debian)
FROM `
  docker.io/library/debian:bookworm-slim
RUN <<EOF
cat > /opt/Dockerfile.template <<'INNER'
FROM python:3.12-slim
INNER
EOF
COPY --from=quay.io/skopeo/stable:v1.15 /usr/bin/skopeo /usr/local/bin/skopeo
COPY --from=0 /etc/os-release /etc/os-release.base
