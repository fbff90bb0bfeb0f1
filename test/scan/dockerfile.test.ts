import { describe, expect, it } from 'vitest';
import { extractDockerfile } from '../../src/scan/dockerfile/extract.js';
import { dockerfileFormat } from '../../src/scan/dockerfile/index.js';

function images(text: string) {
  return extractDockerfile(text).findings.map((finding) => ({
    image: finding.image,
    reference: finding.reference,
    kind: finding.kind,
    text: text.slice(finding.start, finding.end),
    edit: finding.edit.kind,
    skipReason: finding.skipReason,
  }));
}

describe('Dockerfile extraction', () => {
  it('finds FROM past --platform and skips build stages, stage indexes and scratch', () => {
    const text = [
      'FROM --platform=$BUILDPLATFORM golang:1.22 AS build',
      'RUN go build ./...',
      'FROM build AS test',
      'FROM scratch',
      'COPY --from=build /out /out',
      'COPY --from=0 /etc/passwd /etc/passwd',
      'COPY --from=BUILD /x /x',
      '',
    ].join('\n');
    expect(images(text)).toEqual([
      { image: 'golang:1.22', reference: 'golang:1.22', kind: 'FROM', text: 'golang:1.22', edit: 'reference', skipReason: undefined },
    ]);
  });

  it('substitutes global ARG defaults, and points at the ARG when the reference is one argument', () => {
    const text = ['ARG VERSION=3.19', 'ARG BASE="nginx:1.25"', 'FROM alpine:${VERSION}', 'FROM ${BASE}', 'FROM $BASE AS again', ''].join('\n');
    const found = images(text);
    expect(found[0]).toMatchObject({ reference: 'alpine:3.19', text: 'alpine', edit: 'repository' });
    expect(found[1]).toMatchObject({ reference: 'nginx:1.25', text: 'nginx:1.25', edit: 'reference' });
    expect(found[2]).toMatchObject({ reference: 'nginx:1.25', text: 'nginx:1.25', edit: 'reference' });
  });

  it('understands ${VAR:-default} and reports an argument without a default as templated', () => {
    const text = ['ARG TAG', 'FROM node:${TAG:-20}', 'FROM ${IMAGE}', ''].join('\n');
    expect(images(text)).toEqual([
      { image: 'node:${TAG:-20}', reference: 'node:20', kind: 'FROM', text: 'node', edit: 'repository', skipReason: undefined },
      { image: '${IMAGE}', reference: undefined, kind: 'FROM', text: '${IMAGE}', edit: 'none', skipReason: 'templated' },
    ]);
  });

  it('does not take an argument in the repository name for something it can rewrite in place', () => {
    const [found] = images('ARG REGISTRY=quay.io\nFROM ${REGISTRY}/prometheus/busybox:latest\n');
    expect(found).toMatchObject({ reference: 'quay.io/prometheus/busybox:latest', edit: 'none' });
  });

  it('finds COPY --from and RUN --mount from= images, but not stage names', () => {
    const text = [
      'FROM debian:12 AS base',
      'COPY --from=busybox:1.36 /bin/busybox /bin/busybox',
      'RUN --mount=type=bind,from=ghcr.io/org/tools:1,source=/x,target=/y --mount=type=cache,target=/c true',
      'RUN --mount=type=bind,from=base,target=/b true',
      '',
    ].join('\n');
    expect(images(text).map((found) => [found.kind, found.text])).toEqual([
      ['FROM', 'debian:12'],
      ['COPY --from', 'busybox:1.36'],
      ['RUN --mount', 'ghcr.io/org/tools:1'],
    ]);
  });

  it('ignores comments and heredoc bodies, follows line continuations and the escape directive', () => {
    const text = [
      '# escape=`',
      '# FROM ubuntu:22.04',
      'FROM `',
      '  debian:bookworm',
      'RUN <<EOF',
      'FROM python:3.12',
      'EOF',
      'RUN echo \\',
      '  && true',
      '',
    ].join('\n');
    const found = images(text);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ reference: 'debian:bookworm', text: 'debian:bookworm', edit: 'reference' });
  });

  it('keeps CRLF files exact: spans point at the reference characters', () => {
    const text = 'FROM node:20 AS a\r\nFROM redis:7\r\n';
    expect(images(text).map((found) => found.text)).toEqual(['node:20', 'redis:7']);
  });

  it('is lowercase-insensitive on instructions and matches the usual file names', () => {
    expect(images('from alpine:3\n')).toHaveLength(1);
    for (const name of ['Dockerfile', 'app/Dockerfile.prod', 'build/ci.Dockerfile', 'Containerfile', 'x/api.dockerfile']) {
      expect(dockerfileFormat.matches(name)).toBe(true);
    }
    for (const name of ['Dockerfile.md/readme.txt', 'docs/dockerfile-guide.md', 'values.yaml']) {
      expect(dockerfileFormat.matches(name)).toBe(false);
    }
  });
});
