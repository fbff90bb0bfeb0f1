import { describe, expect, it } from 'vitest';
import { extractCompose } from '../../src/scan/compose/extract.js';
import { composeFormat } from '../../src/scan/compose/index.js';
import { extractKubernetes } from '../../src/scan/kubernetes/extract.js';
import { extractKustomize } from '../../src/scan/kustomize/extract.js';
import { kustomizeFormat } from '../../src/scan/kustomize/index.js';
import type { ExtractResult } from '../../src/scan/types.js';

function spans(result: ExtractResult, text: string) {
  return result.findings.map((finding) => ({
    text: text.slice(finding.start, finding.end),
    kind: finding.kind,
    name: finding.name,
    container: finding.container,
    edit: finding.edit.kind,
    skipReason: finding.skipReason,
  }));
}

describe('Kubernetes extraction', () => {
  it('finds every container list at any depth, with the kind and name of the nearest object', () => {
    const text = `apiVersion: v1
kind: List
items:
- kind: CronJob
  metadata: {name: nightly}
  spec:
    jobTemplate:
      spec:
        template:
          spec:
            initContainers: [{name: init, image: "busybox:1"}]
            containers:
            - name: run
              image: 'alpine:3'
- kind: Pod
  metadata:
    name: debug
  spec:
    containers: []
    ephemeralContainers:
    - name: shell
      image: nicolaka/netshoot   # a comment after the value
`;
    expect(spans(extractKubernetes(text), text)).toEqual([
      { text: 'busybox:1', kind: 'CronJob', name: 'nightly', container: 'init', edit: 'reference', skipReason: undefined },
      { text: 'alpine:3', kind: 'CronJob', name: 'nightly', container: 'run', edit: 'reference', skipReason: undefined },
      { text: 'nicolaka/netshoot', kind: 'Pod', name: 'debug', container: 'shell', edit: 'reference', skipReason: undefined },
    ]);
  });

  it('does not take image: in comments, strings or unrelated keys for a container image', () => {
    const text = `# image: evil:1
kind: ConfigMap
data:
  pod.yaml: |
    containers:
    - image: inside-a-string:1
spec:
  image: not-in-a-container-list:1
`;
    expect(extractKubernetes(text).findings).toEqual([]);
  });

  it('reads several documents and JSON', () => {
    const text = '---\nkind: Pod\nspec: {containers: [{image: a:1}]}\n---\n---\nkind: Pod\nspec: {containers: [{image: b:2}]}\n';
    expect(spans(extractKubernetes(text), text).map((found) => found.text)).toEqual(['a:1', 'b:2']);
    const json = '{"kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"ghcr.io/o/i:1"}]}}';
    expect(spans(extractKubernetes(json), json)).toEqual([{ text: 'ghcr.io/o/i:1', kind: 'Pod', name: 'p', container: 'c', edit: 'reference', skipReason: undefined }]);
  });

  it('reports templated values with a skip reason and values it cannot change exactly as not editable', () => {
    const text = `kind: Pod
spec:
  containers:
  - image: "{{ .Values.image }}"
  - image: \${IMAGE}
  - image: "ngin\\x78:1"
  - image: >-
      nginx:1
`;
    const found = spans(extractKubernetes(text), text);
    expect(found.map((finding) => [finding.skipReason, finding.edit])).toEqual([
      ['templated', 'none'],
      ['templated', 'none'],
      [undefined, 'none'],
      [undefined, 'none'],
    ]);
  });

  it('reports a document that does not parse as a problem and still reads the others', () => {
    const text = 'kind: Pod\nspec: {containers: [{image: a:1}]}\n---\n{{- if .Values.x }}\nkind: [\n';
    const result = extractKubernetes(text);
    expect(result.findings).toHaveLength(1);
    expect(result.problems.length).toBeGreaterThan(0);
  });
});

describe('Compose extraction', () => {
  it('finds services.<name>.image, skips build-only services and templated images', () => {
    const text = 'services:\n  api:\n    build: .\n  db:\n    image: postgres:16\n  cache:\n    image: ${REDIS:-redis:7}\n';
    expect(spans(extractCompose(text), text)).toEqual([
      { text: 'postgres:16', kind: 'compose', name: 'db', container: undefined, edit: 'reference', skipReason: undefined },
      { text: '${REDIS:-redis:7}', kind: 'compose', name: 'cache', container: undefined, edit: 'none', skipReason: 'templated' },
    ]);
    expect(composeFormat.matches('deploy/docker-compose.prod.yml')).toBe(true);
    expect(composeFormat.matches('compose.yaml')).toBe(true);
    expect(composeFormat.matches('k8s/composer.yaml')).toBe(false);
  });
});

describe('kustomize extraction', () => {
  it('combines newName, newTag and digest, and plans to add newName when there is none', () => {
    const text = 'resources:\n- ../base\nimages:\n- name: nginx   # web\n  newTag: "1.27"\n- name: redis\n  newName: docker.io/library/redis\n  digest: sha256:' + 'a'.repeat(64) + '\n';
    const result = extractKustomize(text);
    expect(result.links).toEqual(['../base']);
    const [nginx, redis] = result.findings;
    expect(nginx).toMatchObject({ reference: 'nginx:1.27', edit: { kind: 'insert', prefix: '\n  newName: ' } });
    expect(text.slice(0, nginx?.start)).toMatch(/# web$/);
    expect(redis).toMatchObject({ reference: `docker.io/library/redis@sha256:${'a'.repeat(64)}`, edit: { kind: 'repository' } });
    expect(text.slice(redis?.start, redis?.end)).toBe('docker.io/library/redis');
    expect(kustomizeFormat.matches('overlays/prod/kustomization.yaml')).toBe(true);
  });

  it('cannot add a line to a flow mapping entry', () => {
    const text = 'images: [{name: nginx, newTag: "1"}]\n';
    expect(extractKustomize(text).findings[0]?.edit.kind).toBe('none');
  });
});

describe('kustomize tags written as numbers', () => {
  it('keeps newTag: 1.10 as the tag "1.10"', () => {
    const text = 'images:\n- name: app\n  newTag: 1.10\n';
    expect(extractKustomize(text).findings[0]?.reference).toBe('app:1.10');
  });
});

describe('YAML anchors', () => {
  it('follows an alias to the anchored scalar, which is the text to change', () => {
    const text = 'x-image: &web "nginx:1.25"\nkind: Pod\nspec:\n  containers:\n  - image: *web\n  - image: *web\n';
    const found = extractKubernetes(text).findings;
    expect(found.map((finding) => [finding.reference, text.slice(finding.start, finding.end), finding.edit.kind])).toEqual([
      ['nginx:1.25', 'nginx:1.25', 'reference'],
      ['nginx:1.25', 'nginx:1.25', 'reference'],
    ]);
  });
});

describe('Compose merge keys', () => {
  it('finds an image shared through <<: *anchor once per service, at the anchored text', () => {
    const text = 'x-app: &app\n  image: ghcr.io/org/app:1.2\n  restart: always\nservices:\n  web:\n    <<: *app\n  worker:\n    <<: [*app]\n    command: work\n';
    const found = extractCompose(text).findings;
    expect(found.map((finding) => [finding.name, text.slice(finding.start, finding.end)])).toEqual([
      ['web', 'ghcr.io/org/app:1.2'],
      ['worker', 'ghcr.io/org/app:1.2'],
    ]);
  });
});
