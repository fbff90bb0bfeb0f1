import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../support/cli.js';
import { repoRoot } from './control-plane.js';
import { kubectl } from './harness.js';

// What `mirror-config openshift` writes, validated by the real API server against OpenShift's published CRD schemas
// (github.com/openshift/api, fetched by test/setup/install-tools.sh): patterns, enums and CEL rules included. The
// e2e control plane has no Machine Config Operator, so the nodes' registries.conf it would write is not proven here;
// that file is what `mirror-config crio` writes, which skopeo reads in test/crio.

const crds = join(repoRoot, '.cache/crds/openshift');
const kinds = ['imagedigestmirrorsets', 'imagetagmirrorsets'];

async function ok(args: string[], input?: string): Promise<string> {
  const result = await kubectl(args, input === undefined ? {} : { input });
  expect(result.code, `kubectl ${args.join(' ')}: ${result.stderr}`).toBe(0);
  return result.stdout;
}

beforeAll(async () => {
  for (const kind of kinds) {
    const file = join(crds, `${kind}.crd.yaml`);
    // Missing CRDs are an install problem, said loudly rather than skipped.
    const text = readFileSync(file, 'utf8');
    await ok(['apply', '--server-side', '-f', '-'], text);
    await ok(['wait', '--for=condition=Established', '--timeout=60s', `crd/${kind}.config.openshift.io`]);
  }
});
afterAll(async () => {
  for (const kind of kinds) await kubectl(['delete', '--ignore-not-found', `crd/${kind}.config.openshift.io`]);
});

describe('mirror-config openshift against the published CRDs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mirrorhook-openshift-'));
  const config = join(dir, 'mirrorhook.yaml');
  writeFileSync(config, 'mirror:\n  registry: mirror.example.com:5443/platform/mirror\n  layout: host-path\n');

  it.each([[[]], [['--no-fallback']]])('the API server accepts both mirror sets (extra flags: %j) and stores them as written', async (extra) => {
    const { code, stdout, stderr } = await runCommand(['mirror-config', 'openshift', '--config', config, '--hosts', 'docker.io,quay.io,registry.k8s.io,localhost:5001', ...extra]);
    expect(code, stderr).toBe(0);
    await ok(['apply', '--server-side', '-f', '-'], stdout);
    const digest = JSON.parse(await ok(['get', 'imagedigestmirrorset', 'mirrorhook', '-o', 'json'])) as { spec: { imageDigestMirrors: { source: string; mirrors: string[]; mirrorSourcePolicy: string }[] } };
    const policy = extra.length === 0 ? 'AllowContactingSource' : 'NeverContactSource';
    expect(digest.spec.imageDigestMirrors).toContainEqual({ source: 'docker.io', mirrors: ['mirror.example.com:5443/platform/mirror/docker.io'], mirrorSourcePolicy: policy });
    expect(digest.spec.imageDigestMirrors).toContainEqual({ source: 'localhost:5001', mirrors: ['mirror.example.com:5443/platform/mirror/localhost_5001'], mirrorSourcePolicy: policy });
    const tag = JSON.parse(await ok(['get', 'imagetagmirrorset', 'mirrorhook', '-o', 'json'])) as { spec: { imageTagMirrors: unknown[] } };
    expect(tag.spec.imageTagMirrors).toEqual(digest.spec.imageDigestMirrors);
  });

  it('the schema is live: a mirror written with a scheme is refused by the same API server', async () => {
    const bad = 'apiVersion: config.openshift.io/v1\nkind: ImageTagMirrorSet\nmetadata: {name: not-mirrorhook}\nspec:\n  imageTagMirrors:\n  - source: docker.io\n    mirrors: ["https://mirror.example.com/docker.io"]\n';
    const result = await kubectl(['apply', '--server-side', '--dry-run=server', '-f', '-'], { input: bad });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/mirrors|should match/);
  });
});
