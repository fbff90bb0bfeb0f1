import { describe, expect, it } from 'vitest';
import { extractActions } from '../../src/scan/actions/extract.js';
import { extractCloudBuild } from '../../src/scan/cloudbuild/extract.js';
import { formatFor } from '../../src/scan/formats.js';
import { extractKubernetes } from '../../src/scan/kubernetes/extract.js';
import { kubernetesFormat } from '../../src/scan/kubernetes/index.js';
import type { ExtractResult } from '../../src/scan/types.js';

function found(result: ExtractResult, text: string) {
  return result.findings.map((finding) => ({
    text: text.slice(finding.start, finding.end),
    reference: finding.reference,
    kind: finding.kind,
    name: finding.name,
    container: finding.container,
    edit: finding.edit.kind,
  }));
}

describe('format selection', () => {
  it('reads Cloud Build configs and workflows with their own format, other YAML as Kubernetes', () => {
    expect(formatFor('ci/cloudbuild.yaml')?.name).toBe('cloudbuild');
    expect(formatFor('cloudbuild-prod.json')?.name).toBe('cloudbuild');
    expect(formatFor('.github/workflows/ci.yml')?.name).toBe('github-actions');
    expect(formatFor('sub/.github/workflows/release.yaml')?.name).toBe('github-actions');
    expect(formatFor('.github/dependabot.yml')?.name).toBe('kubernetes');
    expect(formatFor('tekton/task.yaml')?.name).toBe('kubernetes');
  });
});

describe('Cloud Build', () => {
  it('finds steps[].name in YAML and JSON, named by id or position', () => {
    const text = 'steps:\n- name: gcr.io/cloud-builders/docker   # build\n  args: [build, .]\n- id: test\n  name: "golang:1.22"\n- name: $_IMAGE\nimages: [gcr.io/$PROJECT_ID/app]\n';
    expect(found(extractCloudBuild(text), text)).toEqual([
      { text: 'gcr.io/cloud-builders/docker', reference: 'gcr.io/cloud-builders/docker', kind: 'cloudbuild', name: 'step 1', container: undefined, edit: 'reference' },
      { text: 'golang:1.22', reference: 'golang:1.22', kind: 'cloudbuild', name: 'test', container: undefined, edit: 'reference' },
      { text: '$_IMAGE', reference: undefined, kind: 'cloudbuild', name: 'step 3', container: undefined, edit: 'none' },
    ]);
    const json = '{"steps":[{"name":"node:20","entrypoint":"npm"}]}';
    expect(found(extractCloudBuild(json), json).map((finding) => finding.text)).toEqual(['node:20']);
  });
});

describe('GitHub Actions', () => {
  it('finds job containers (string and map), service images and docker:// steps, not repository actions', () => {
    const text = `on: push
jobs:
  test:
    runs-on: ubuntu-latest
    container: node:20-bookworm
    services:
      db:
        image: postgres:16
        env: {POSTGRES_PASSWORD: x}
      cache: {image: "redis:7"}
    steps:
    - uses: actions/checkout@v4
    - name: lint
      uses: docker://ghcr.io/org/linter:1.2
  build:
    container:
      image: golang:1.22
      options: --cpus 1
    steps:
    - run: make
`;
    expect(found(extractActions(text), text)).toEqual([
      { text: 'node:20-bookworm', reference: 'node:20-bookworm', kind: 'workflow', name: 'test', container: 'container', edit: 'reference' },
      { text: 'postgres:16', reference: 'postgres:16', kind: 'workflow', name: 'test', container: 'service db', edit: 'reference' },
      { text: 'redis:7', reference: 'redis:7', kind: 'workflow', name: 'test', container: 'service cache', edit: 'reference' },
      { text: 'ghcr.io/org/linter:1.2', reference: 'ghcr.io/org/linter:1.2', kind: 'workflow', name: 'test', container: 'step lint', edit: 'reference' },
      { text: 'golang:1.22', reference: 'golang:1.22', kind: 'workflow', name: 'build', container: 'container', edit: 'reference' },
    ]);
  });
});

describe('Tekton, Argo Workflows and Knative in Kubernetes manifests', () => {
  it('finds Tekton steps, sidecars and stepTemplate, including a Pipeline with embedded task specs', () => {
    const text = `apiVersion: tekton.dev/v1
kind: Task
metadata: {name: build}
spec:
  stepTemplate:
    image: alpine:3.20
  steps:
  - name: compile
    image: golang:1.22
  - name: shell
    script: echo hi
  sidecars:
  - name: docker
    image: docker:27-dind
---
apiVersion: tekton.dev/v1
kind: Pipeline
metadata: {name: ci}
spec:
  tasks:
  - name: unit
    taskSpec:
      steps:
      - image: node:20
`;
    expect(found(extractKubernetes(text), text).map((finding) => [finding.text, finding.kind, finding.name, finding.container])).toEqual([
      ['alpine:3.20', 'Task', 'build', undefined],
      ['golang:1.22', 'Task', 'build', 'compile'],
      ['docker:27-dind', 'Task', 'build', 'docker'],
      ['node:20', 'Pipeline', 'ci', undefined],
    ]);
  });

  it('finds Argo template containers, scripts, sidecars and init containers', () => {
    const text = `apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: etl}
spec:
  templates:
  - name: main
    steps:
    - - name: a
        template: extract
  - name: extract
    container: {image: "python:3.12", command: [python]}
    initContainers: [{name: fetch, image: curlimages/curl:8}]
    sidecars: [{name: db, image: postgres:16}]
  - name: load
    script:
      image: busybox:1.36
      source: echo done
`;
    expect(found(extractKubernetes(text), text).map((finding) => finding.text)).toEqual(['python:3.12', 'curlimages/curl:8', 'postgres:16', 'busybox:1.36']);
  });

  it('does not read steps or container keys outside the Tekton and Argo API groups', () => {
    const text = 'apiVersion: example.com/v1\nkind: Recipe\nspec:\n  container: {image: nope:1}\n  steps: [{image: nope:2}]\n';
    expect(extractKubernetes(text).findings).toEqual([]);
  });

  it('finds Knative and Cloud Run services through their PodSpec containers', () => {
    const text = `apiVersion: serving.knative.dev/v1
kind: Service
metadata: {name: hello}
spec:
  template:
    spec:
      containers:
      - image: gcr.io/knative-samples/helloworld-go
`;
    expect(found(extractKubernetes(text), text).map((finding) => [finding.text, finding.kind, finding.name])).toEqual([
      ['gcr.io/knative-samples/helloworld-go', 'Service', 'hello'],
    ]);
  });
});

describe('image volumes', () => {
  it('finds spec.volumes[].image.reference in any Pod template as a pulled image', () => {
    const text = `apiVersion: apps/v1
kind: Deployment
metadata: {name: model}
spec:
  template:
    spec:
      containers:
      - name: server
        image: ghcr.io/org/server:1
      volumes:
      - name: weights
        image:
          reference: quay.io/org/weights:v3   # the artifact
          pullPolicy: IfNotPresent
      - name: scratch
        emptyDir: {}
`;
    expect(found(extractKubernetes(text), text).map((finding) => [finding.text, finding.container, finding.edit])).toEqual([
      ['ghcr.io/org/server:1', 'server', 'reference'],
      ['quay.io/org/weights:v3', 'volume weights', 'reference'],
    ]);
  });

  it('reads a Pod that names images only in volumes', () => {
    const text = 'kind: Pod\nspec:\n  volumes:\n  - name: data\n    image: {reference: "registry.k8s.io/pause:3.10"}\n';
    expect(kubernetesFormat.mayContainImages(text)).toBe(true);
    expect(extractKubernetes(text).findings.map((finding) => finding.reference)).toEqual(['registry.k8s.io/pause:3.10']);
  });
});
