import { describe, expect, it } from 'vitest';
import { planRewrite } from '../../src/rewrite/plan.js';
import { scanText } from '../../src/scan/scan.js';
import { testMapper } from '../scan/mapper.js';

const mapper = testMapper();

function rewriteText(file: string, text: string): string {
  return planRewrite(scanText(file, text, mapper), text, mapper).rewritten;
}

describe('rewrite of pipeline files and image volumes', () => {
  it('keeps docker:// of a workflow step and rewrites job containers and services in place', () => {
    const text = 'jobs:\n  t:\n    container: {image: "node:20"}  # ci\n    services:\n      db: {image: postgres:16}\n    steps:\n    - uses: actions/checkout@v4\n    - uses: docker://alpine:3.20\n';
    expect(rewriteText('.github/workflows/ci.yml', text)).toBe(
      'jobs:\n  t:\n    container: {image: "mirror.example.com/m/docker.io/library/node:20"}  # ci\n    services:\n      db: {image: mirror.example.com/m/docker.io/library/postgres:16}\n    steps:\n    - uses: actions/checkout@v4\n    - uses: docker://mirror.example.com/m/docker.io/library/alpine:3.20\n',
    );
  });

  it('rewrites Cloud Build step images and leaves substitutions alone', () => {
    const text = 'steps:\n- name: gcr.io/cloud-builders/docker\n- name: $_RUNNER\n';
    expect(rewriteText('cloudbuild.yaml', text)).toBe('steps:\n- name: mirror.example.com/m/gcr.io/cloud-builders/docker\n- name: $_RUNNER\n');
  });

  it('rewrites an image volume reference and Tekton steps', () => {
    const pod = 'kind: Pod\nspec:\n  volumes:\n  - name: w\n    image:\n      reference: quay.io/org/w:1  # weights\n';
    expect(rewriteText('pod.yaml', pod)).toBe('kind: Pod\nspec:\n  volumes:\n  - name: w\n    image:\n      reference: mirror.example.com/m/quay.io/org/w:1  # weights\n');
    const task = 'apiVersion: tekton.dev/v1\nkind: Task\nspec:\n  steps:\n  - image: golang:1.22\n';
    expect(rewriteText('task.yaml', task)).toBe('apiVersion: tekton.dev/v1\nkind: Task\nspec:\n  steps:\n  - image: mirror.example.com/m/docker.io/library/golang:1.22\n');
  });
});
