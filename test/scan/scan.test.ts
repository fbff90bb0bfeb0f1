import { mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type ScanFileSystem, maxFileBytes, scanPaths } from '../../src/scan/files.js';
import { scanText } from '../../src/scan/scan.js';
import { loadConfig } from '../../src/config/load.js';
import { isMirrorhookError } from '../../src/errors.js';
import { createMapper } from '../../src/mapping/index.js';
import { testMapper } from './mapper.js';

describe('scanText', () => {
  it('places each occurrence at its line and column and judges it against the mirror', () => {
    const text = 'kind: Pod\nspec:\n  containers:\n  - image: nginx:1.25\n  - image: mirror.example.com/m/docker.io/library/redis:7\n  - image: gcr.io/distroless/static:nonroot\n  - image: nginx:-bad\n';
    const scan = scanText('pod.yaml', text, testMapper());
    expect(scan.occurrences.map((occurrence) => [occurrence.line, occurrence.column, occurrence.standing, occurrence.source, occurrence.target, occurrence.skipReason])).toEqual([
      [4, 12, 'third-party', 'docker.io/library/nginx:1.25', 'mirror.example.com/m/docker.io/library/nginx:1.25', undefined],
      [5, 12, 'mirrored', 'mirror.example.com/m/docker.io/library/redis:7', undefined, undefined],
      [6, 12, 'left-out', 'gcr.io/distroless/static:nonroot', undefined, undefined],
      [7, 12, 'invalid', undefined, undefined, 'invalid-reference'],
    ]);
  });

  it('turns a parse failure into one skip that says where and how many errors followed', () => {
    const scan = scanText('deploy/x.yaml', 'kind: Pod\nspec: {containers: [{image: a}]\nmetadata: {name: x}\n', testMapper());
    expect(scan.occurrences).toEqual([]);
    expect(scan.skips).toHaveLength(1);
    expect(scan.skips[0]).toMatchObject({ file: 'deploy/x.yaml', skipReason: 'unparsable' });
  });

  it('reads a Go template found without its Chart.yaml as a template: templated or literal, never unparsable', () => {
    const text = '{{- if .Values.on }}\nkind: Pod\nspec:\n  containers:\n    - image: {{ .Values.image }}\n    - image: busybox:1.36\n{{- end }}\n';
    const scan = scanText('chart/templates/x.yaml', text, testMapper());
    expect(scan.skips).toEqual([]);
    expect(scan.occurrences.map((occurrence) => [occurrence.image, occurrence.skipReason ?? null])).toEqual([
      ['{{ .Values.image }}', 'templated'],
      ['busybox:1.36', null],
    ]);
  });
});

/** The example repository's folders (examples/ also holds other commands' inputs). */
const exampleRepository = ['examples/app', 'examples/compose', 'examples/helm-chart', 'examples/k8s', 'examples/kustomize', 'examples/tools'];

describe('scanPaths over examples/', () => {
  it('finds what a repository pulls and nothing grep would invent', async () => {
    const { config } = await loadConfig('examples/mirrorhook.yaml');
    const result = scanPaths(exampleRepository, createMapper(config));
    const listed = result.files
      .flatMap((file) => file.occurrences)
      .filter((occurrence) => occurrence.standing === 'third-party' && occurrence.skipReason === undefined)
      .map((occurrence) => occurrence.source);
    expect(new Set(listed)).toEqual(
      new Set([
        'docker.io/library/node:20.11.1-bookworm',
        'docker.io/library/golang:1.22',
        'ghcr.io/grpc-ecosystem/grpc-health-probe:v0.4.25',
        'docker.io/library/alpine:3.19',
        'docker.io/library/busybox:1.36.1',
        'docker.io/library/debian:bookworm-slim',
        'quay.io/skopeo/stable:v1.15',
        'docker.io/library/postgres:16-alpine',
        'docker.io/library/traefik:v3.0',
        'registry.k8s.io/kubectl:v1.30.2',
        'docker.io/amazon/aws-cli@sha256:5b4ef3b6a4e2bb3b4a8b3e6c33c7c0f1e2a4d5b6c7d8e9f0a1b2c3d4e5f60718',
        'quay.io/prometheus/node-exporter:v1.8.1',
        'ghcr.io/example-org/seed-data:2024.05',
        'docker.io/library/postgres:16.2',
        'docker.io/library/nginx:1.25.4',
        'quay.io/prometheus/nginx-exporter:1.1.0',
        'docker.io/example/shop:3.2.1',
        'docker.io/library/haproxy@sha256:0d5d2bd1d2b2cbd8b1ad5cb8b4ab8e1de39f4bde1d0b28c6c1b3e2b0e6a6d2f1',
        // examples/helm-chart/templates/sidecar.yaml: a Go template (no Chart.yaml next to it) with a literal image.
        'docker.io/envoyproxy/envoy:v1.30.1',
      ]),
    );
    const all = result.files.flatMap((file) => file.occurrences);
    // Comments, ConfigMap strings and heredoc bodies are not images.
    for (const invented of ['busybox:latest', 'python:3.12-slim', 'ubuntu:22.04', 'quay.io/prometheus/nginx-exporter:0.11.0']) {
      expect(all.map((occurrence) => occurrence.image)).not.toContain(invented);
    }
    // A kustomization's images: entries govern the base it builds.
    const base = all.filter((occurrence) => occurrence.file === 'examples/kustomize/base/deployment.yaml');
    expect(base.map((occurrence) => occurrence.skipReason)).toEqual(['kustomize-override', 'kustomize-override']);
    const skips = result.files.flatMap((file) => file.skips);
    expect(skips).toEqual([]);
  });

  it('reports a path that does not exist as bad usage', () => {
    let error: unknown;
    try {
      scanPaths(['no/such/dir'], testMapper());
    } catch (caught) {
      error = caught;
    }
    expect(isMirrorhookError(error, 'MH_SCAN_PATH')).toBe(true);
  });
});

describe('scanPaths file skips', () => {
  const folder = mkdtempSync(join(tmpdir(), 'mirrorhook-scan-skips-'));
  writeFileSync(join(folder, 'pod.yaml'), 'kind: Pod\nspec:\n  containers: [{image: nginx:1}]\n');
  writeFileSync(join(folder, 'big.yaml'), 'kind: Pod\n');
  writeFileSync(join(folder, 'notes.txt'), 'FROM ubuntu\n');
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  /** The real file system, except that big.yaml is over the limit and pod.yaml cannot be read. */
  const fileSystem: ScanFileSystem = {
    stat: (path) => statSync(path),
    readdir: (path) => readdirSync(path, { withFileTypes: true }),
    readFile: (path, limit) => {
      if (path.endsWith('big.yaml')) return { tooLarge: limit + 1 };
      throw Object.assign(new Error('permission denied'), { code: 'EACCES' });
    },
  };

  it('reports unreadable and too large files and goes on', () => {
    const result = scanPaths([folder], testMapper(), fileSystem);
    expect(result.files.flatMap((file) => file.skips).map((skip) => [skip.file.slice(folder.length + 1), skip.skipReason, skip.detail])).toEqual([
      ['big.yaml', 'too-large', `${maxFileBytes + 1} bytes, over ${maxFileBytes}`],
      ['pod.yaml', 'unreadable', 'EACCES'],
    ]);
  });

  it('follows a symbolic link given by name, but not links inside folders', () => {
    const linked = mkdtempSync(join(tmpdir(), 'mirrorhook-scan-link-'));
    try {
      symlinkSync(folder, join(linked, 'repo'));
      expect(scanPaths([join(linked, 'repo')], testMapper()).files.map((file) => file.file.slice(linked.length + 1)).sort()).toEqual([
        'repo/big.yaml',
        'repo/pod.yaml',
      ]);
      expect(scanPaths([linked], testMapper()).files).toEqual([]);
    } finally {
      rmSync(linked, { recursive: true, force: true });
    }
  });

  it('reports a file named on the command line that no format reads', () => {
    const result = scanPaths([join(folder, 'notes.txt')], testMapper());
    expect(result.files.flatMap((file) => file.skips).map((skip) => skip.skipReason)).toEqual(['unknown-format']);
  });
});
