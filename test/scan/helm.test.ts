import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { planRewrite } from '../../src/rewrite/plan.js';
import { scanPaths } from '../../src/scan/files.js';
import { extractHelmTemplate } from '../../src/scan/helm/templates.js';
import { extractHelmValues } from '../../src/scan/helm/values.js';
import { scanText } from '../../src/scan/scan.js';
import { testMapper } from './mapper.js';

const mapper = testMapper();
const chart = 'examples/real-repo/helm/shop';
const originalPath = process.env.PATH;
const withHelm = (): void => {
  process.env.PATH = `${resolve('.cache/bin')}${delimiter}${originalPath ?? ''}`;
};
afterEach(() => {
  process.env.PATH = originalPath;
});

describe('Helm values', () => {
  it('reads every block shape with its parts, the appVersion default and numbers written as tags', () => {
    const text = 'image: {repository: nginx, tag: ""}\nweb:\n  image:\n    registry: docker.io\n    repository: bitnami/nginx  # pinned\n    tag: 1.10\n    digest: ""\nimages:\n  a: {name: envoyproxy/envoy, tag: v1}\n  b: "quay.io/o/b:2"\nsidecarImage: busybox:1.36\nservice: {name: web, port: 80}\n';
    const found = extractHelmValues(text, '1.25.5').findings;
    expect(found.map((finding) => [finding.name, finding.reference, text.slice(finding.start, finding.end), finding.edit.kind])).toEqual([
      ['image', 'nginx:1.25.5', 'nginx', 'repository'],
      ['web.image', 'docker.io/bitnami/nginx:1.10', 'bitnami/nginx', 'registry-repository'],
      ['images.a', 'envoyproxy/envoy:v1', 'envoyproxy/envoy', 'repository'],
      ['images.b', 'quay.io/o/b:2', 'quay.io/o/b:2', 'reference'],
      ['sidecarImage', 'busybox:1.36', 'busybox:1.36', 'reference'],
    ]);
  });

  it('applies global.imageRegistry to every block and does not change such blocks in place', () => {
    const text = 'global:\n  imageRegistry: registry.corp.example\nimage:\n  registry: docker.io\n  repository: bitnami/redis\n  tag: "7"\n';
    const [finding] = extractHelmValues(text, undefined).findings;
    expect(finding?.reference).toBe('registry.corp.example/bitnami/redis:7');
    expect(finding?.edit.kind).toBe('none');
  });

  it('reads the registry conventions of kyverno (defaultRegistry, global.image.registry) and cert-manager (imageRegistry/imageNamespace/name)', () => {
    const kyverno = 'global:\n  image:\n    registry: ~\nimage:\n  registry: ~\n  defaultRegistry: reg.kyverno.io\n  repository: kyverno/kyverno\n  tag: ~\n';
    expect(extractHelmValues(kyverno, 'v1.19.1').findings.map((finding) => [finding.reference, finding.edit.kind])).toEqual([['reg.kyverno.io/kyverno/kyverno:v1.19.1', 'registry-repository']]);
    const overridden = kyverno.replace('registry: ~\nimage', 'registry: corp.example\nimage');
    expect(extractHelmValues(overridden, 'v1.19.1').findings.map((finding) => [finding.reference, finding.edit.kind])).toEqual([['corp.example/kyverno/kyverno:v1.19.1', 'none']]);
    const certManager = 'imageRegistry: quay.io\nimageNamespace: jetstack\nimage:\n  name: cert-manager-controller\n  repository: ""\n';
    expect(extractHelmValues(certManager, 'v1.21.2').findings.map((finding) => [finding.reference, finding.edit.kind])).toEqual([['quay.io/jetstack/cert-manager-controller:v1.21.2', 'repository']]);
    // Such charts take a non-empty repository whole: rewrite writes the mirror repository into the empty one.
    const scan = scanText('values.yaml', certManager, mapper, { name: 'helm-values', matches: () => true, mayContainImages: () => true, extract: (value) => extractHelmValues(value, 'v1.21.2') });
    expect(planRewrite(scan, certManager, mapper).rewritten).toBe(certManager.replace('repository: ""', 'repository: "mirror.example.com/m/quay.io/jetstack/cert-manager-controller"'));
    const withoutRepository = certManager.replace('  repository: ""\n', '');
    expect(extractHelmValues(withoutRepository, 'v1.21.2').findings.map((finding) => finding.edit.kind)).toEqual(['none']);
    const gatekeeper = 'image:\n  repository: openpolicyagent/gatekeeper\n  crdRepository: openpolicyagent/gatekeeper-crds\n  release: v3.23.1\n';
    expect(extractHelmValues(gatekeeper, 'v3.23.1').findings.map((finding) => [finding.name, finding.reference])).toEqual([
      ['image', 'openpolicyagent/gatekeeper:v3.23.1'],
      ['image.crdRepository', 'openpolicyagent/gatekeeper-crds:v3.23.1'],
    ]);
  });

  it('rewrites registry and repository of a block consistently, keeping tag, digest and comments', () => {
    const text = 'image:\n  registry: docker.io\n  repository: bitnami/nginx   # web\n  tag: 1.27.0\n  digest: ""\nother:\n  image:\n    repository: "redis"\n    tag: "7"\n';
    const scan = scanText('values.yaml', text, mapper, { name: 'helm-values', matches: () => true, mayContainImages: () => true, extract: (value) => extractHelmValues(value, undefined) });
    expect(planRewrite(scan, text, mapper).rewritten).toBe(
      'image:\n  registry: mirror.example.com\n  repository: m/docker.io/bitnami/nginx   # web\n  tag: 1.27.0\n  digest: ""\nother:\n  image:\n    repository: "mirror.example.com/m/docker.io/library/redis"\n    tag: "7"\n',
    );
  });
});

describe('Helm templates', () => {
  it('are read line by line: templated values are templated, literal images are references, nothing is unparsable', () => {
    const text = '{{- if .Values.enabled }}\ncontainers:\n  - image: {{ .Values.image | quote }}\n  - name: x\n    image: "busybox:1.36"  # wait\n{{- end }}\n';
    expect(extractHelmTemplate(text).findings.map((finding) => [text.slice(finding.start, finding.end), finding.skipReason ?? null])).toEqual([
      ['{{ .Values.image | quote }}', 'templated'],
      ['busybox:1.36', null],
    ]);
  });
});

describe('a chart in a scanned tree', () => {
  it('renders with helm and the rendered images agree with the values and literal template images', () => {
    withHelm();
    const files = scanPaths([chart], mapper).files;
    const occurrences = files.flatMap((file) => file.occurrences);
    expect(files.flatMap((file) => file.skips)).toEqual([]);
    const rendered = new Set(occurrences.filter((occurrence) => occurrence.format === 'helm-rendered').map((occurrence) => occurrence.source));
    const read = new Set(occurrences.filter((occurrence) => occurrence.format !== 'helm-rendered' && occurrence.source !== undefined).map((occurrence) => occurrence.source));
    expect(rendered).toEqual(read);
    expect([...rendered].sort()).toEqual([
      'docker.io/bitnami/postgresql:16.4.0-debian-12-r0',
      'docker.io/envoyproxy/envoy:v1.31.2',
      'docker.io/library/busybox:1.36',
      'docker.io/library/nginx:1.25.5',
      'docker.io/library/redis:7.2.5-alpine',
      'ghcr.io/acme/migrate:2.4.1',
      'quay.io/prometheuscommunity/postgres-exporter:v0.15.0@sha256:1111111111111111111111111111111111111111111111111111111111111111',
    ]);
    const proxy = occurrences.find((occurrence) => occurrence.format === 'helm-rendered' && occurrence.container === 'proxy');
    expect(proxy).toMatchObject({ file: `${chart}/templates/deployment.yaml`, line: 20, kind: 'Deployment' });
  });

  it('without helm, says once that the templates were not rendered and how to get helm', () => {
    process.env.PATH = '/nonexistent';
    const skips = scanPaths([chart], mapper).files.flatMap((file) => file.skips);
    expect(skips).toEqual([
      { file: `${chart}/Chart.yaml`, line: 1, skipReason: 'not-rendered', detail: 'helm is not on PATH: templates were not rendered (install helm 3, https://helm.sh/docs/intro/install/)' },
    ]);
  });
});

describe('a chart with a packaged (.tgz) subchart', () => {
  it('counts the archive as vendored, renders it with the parent values and lists what it deploys', () => {
    withHelm();
    const root = mkdtempSync(join(tmpdir(), 'tgz-chart-'));
    try {
      const sub = join(root, 'src', 'cache');
      mkdirSync(join(sub, 'templates'), { recursive: true });
      writeFileSync(join(sub, 'Chart.yaml'), 'apiVersion: v2\nname: cache\nversion: 0.1.0\n');
      writeFileSync(join(sub, 'values.yaml'), 'image:\n  repository: redis\n  tag: "7.0"\n');
      writeFileSync(join(sub, 'templates', 'pod.yaml'), 'apiVersion: v1\nkind: Pod\nmetadata: {name: cache}\nspec:\n  containers:\n    - name: redis\n      image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"\n');
      const parent = join(root, 'app');
      mkdirSync(join(parent, 'charts'), { recursive: true });
      mkdirSync(join(parent, 'templates'));
      writeFileSync(join(parent, 'Chart.yaml'), 'apiVersion: v2\nname: app\nversion: 1.0.0\ndependencies:\n  - name: cache\n    version: 0.1.0\n  - name: extras\n    version: 1.0.0\n    repository: https://charts.example.invalid\n    condition: extras.enabled\n');
      writeFileSync(join(parent, 'values.yaml'), 'image: nginx:1.27\ncache:\n  image:\n    tag: "7.2"\nextras:\n  enabled: false\n');
      writeFileSync(join(parent, 'templates', 'pod.yaml'), 'apiVersion: v1\nkind: Pod\nmetadata: {name: app}\nspec:\n  containers:\n    - name: web\n      image: {{ .Values.image }}\n');
      const packaged = spawnSync('helm', ['package', sub, '-d', join(parent, 'charts')], { encoding: 'utf8' });
      expect(packaged.status, packaged.stderr).toBe(0);
      const files = scanPaths([parent], mapper).files;
      expect(files.flatMap((file) => file.skips)).toEqual([]);
      const listed = files.flatMap((file) => file.occurrences).filter((occurrence) => occurrence.skipReason === undefined && occurrence.standing === 'third-party');
      expect([...new Set(listed.map((occurrence) => occurrence.source))].sort()).toEqual(['docker.io/library/nginx:1.27', 'docker.io/library/redis:7.2']);
      expect(listed.find((occurrence) => occurrence.source === 'docker.io/library/redis:7.2')?.file).toBe(join(parent, 'charts', 'cache', 'templates', 'pod.yaml'));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('a chart with an alternative values file', () => {
  it('renders it too: what it switches on is listed, what it names but does not deploy is not-deployed', () => {
    withHelm();
    const root = mkdtempSync(join(tmpdir(), 'values-prod-'));
    try {
      mkdirSync(join(root, 'templates'));
      writeFileSync(join(root, 'Chart.yaml'), 'apiVersion: v2\nname: web\nversion: 0.1.0\nappVersion: "1.27"\n');
      writeFileSync(join(root, 'values.yaml'), 'image:\n  repository: nginx\n  tag: ""\nsidecar:\n  enabled: false\n  image: busybox:1.36\n');
      writeFileSync(join(root, 'values-prod.yaml'), 'image:\n  tag: 1.27-alpine\nsidecar:\n  enabled: true\nunused:\n  image: redis:7\n');
      writeFileSync(
        join(root, 'templates', 'pod.yaml'),
        'apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n    - name: web\n      image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"\n{{- if .Values.sidecar.enabled }}\n    - name: sidecar\n      image: {{ .Values.sidecar.image }}\n{{- end }}\n',
      );
      const occurrences = scanPaths([root], mapper).files.flatMap((file) => file.occurrences);
      const listed = occurrences.filter((occurrence) => occurrence.skipReason === undefined && occurrence.standing === 'third-party');
      expect([...new Set(listed.map((occurrence) => occurrence.source))].sort()).toEqual([
        'docker.io/library/busybox:1.36',
        'docker.io/library/nginx:1.27',
        'docker.io/library/nginx:1.27-alpine',
      ]);
      const values = occurrences.filter((occurrence) => occurrence.format === 'helm-values');
      expect(values.map((occurrence) => [occurrence.file.slice(root.length + 1), occurrence.name, occurrence.skipReason ?? null, occurrence.edit.kind])).toEqual([
        ['values-prod.yaml', 'unused.image', 'not-deployed', 'none'],
        ['values.yaml', 'image', null, 'repository'],
        ['values.yaml', 'sidecar.image', null, 'reference'],
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
