import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeDomain } from '../../src/mapping/index.js';
import { RegistryClient } from '../../src/registry/index.js';
import { runCommand } from '../support/cli.js';
import { pushTestImage } from '../support/images.js';
import { type TestRegistry, startRegistry } from '../support/registry.js';
import { createNamespace, kubeConfig, kubeConfigPath } from './harness.js';

// `mirrorhook report --cluster` against the real API server and a real mirror: the migration state of a namespace
// in enforce, one in audit and one not opted in, and which images the mirror lacks (one manifest HEAD each).

interface ReportJson {
  images: { total: number; thirdParty: number; mirrored: number; missingFromMirror: number | null; mirrorChecked: boolean };
  namespaces: { name: string; mode: string; containers: number; mirrored: number; thirdParty: number; wouldRewrite: number }[];
  list: { source: string; namespaces: string[]; inMirror: boolean | null; waiting: string | null }[];
}

let mirror: TestRegistry;
let dir: string;
let config: string;
const namespaces: Record<'enforce' | 'audit' | 'none', string> = { enforce: '', audit: '', none: '' };
const copied = 'quay.io/e2e-report/copied:1';

beforeAll(async () => {
  mirror = await startRegistry();
  dir = await mkdtemp(join(tmpdir(), 'mirrorhook-e2e-report-'));
  config = join(dir, 'mirrorhook.yaml');
  await writeFile(config, `mirror:\n  registry: ${mirror.host}/m\n  layout: host-path\nswap: exists\ncopy: none\n`);
  // One image already copied to the mirror (where the mapping puts it), not yet used from there.
  await pushTestImage(new RegistryClient(), { domain: mirror.host, path: `m/${encodeDomain('quay.io')}/e2e-report/copied` }, '1');
  const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
  for (const mode of ['enforce', 'audit', 'none'] as const) {
    namespaces[mode] = await createNamespace(mode === 'none' ? {} : { 'mirrorhook.io/mode': mode }, `e2e-report-${mode}-`);
  }
  const pod = (name: string, images: string[]) => ({ metadata: { name }, spec: { containers: images.map((image, index) => ({ name: `c${index}`, image })) } });
  await core.createNamespacedPod({ namespace: namespaces.enforce, body: pod('web', [`${mirror.host}/m/docker.io/library/nginx:1.27`, 'docker.io/e2e-report/sidecar:2']) });
  await core.createNamespacedPod({ namespace: namespaces.audit, body: pod('api', [copied]) });
  await core.createNamespacedPod({ namespace: namespaces.none, body: pod('batch', ['ghcr.io/e2e-report/batch:3']) });
});

afterAll(async () => {
  const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
  for (const name of Object.values(namespaces)) if (name !== '') await core.deleteNamespace({ name }).catch(() => undefined);
  await mirror?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('report --cluster', () => {
  it('reports each namespace with its mode and what the mirror lacks, and the page shows the same', async () => {
    const args = ['report', '--cluster', '--kubeconfig', kubeConfigPath(), '--config', config];
    const json = await runCommand([...args, '--output', 'json']);
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout) as ReportJson;
    const ours = (mode: keyof typeof namespaces) => report.namespaces.find((entry) => entry.name === namespaces[mode]);
    expect(ours('enforce')).toMatchObject({ mode: 'enforce', containers: 2, mirrored: 1, thirdParty: 1 });
    expect(ours('audit')).toMatchObject({ mode: 'audit', containers: 1, mirrored: 0, thirdParty: 1, wouldRewrite: 1 });
    expect(ours('none')).toMatchObject({ mode: 'none', containers: 1, mirrored: 0, thirdParty: 1 });
    expect(report.images.mirrorChecked).toBe(true);

    const image = (source: string) => report.list.find((entry) => entry.source === source);
    expect(image('quay.io/e2e-report/copied:1')).toMatchObject({ inMirror: true, waiting: 'not-rewritten' });
    expect(image('docker.io/e2e-report/sidecar:2')).toMatchObject({ inMirror: false, waiting: 'not-copied' });
    expect(image('ghcr.io/e2e-report/batch:3')).toMatchObject({ inMirror: false });
    expect(image('ghcr.io/e2e-report/batch:3')?.waiting).toMatch(/not-copied|namespace-not-opted-in/);

    const out = join(dir, 'report.html');
    const page = await runCommand([...args, '--out', out]);
    expect(page.code, page.stderr).toBe(0);
    const html = await readFile(out, 'utf8');
    for (const name of Object.values(namespaces)) expect(html).toContain(name);
    expect(html).toContain('docker.io/e2e-report/sidecar:2');
  });
});
